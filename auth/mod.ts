// The auth subsystem's door: password hashing now; users, roles, JWT and permission checks
// arrive with the server-and-security issue.

export { hashPassword, verifyPassword } from "./password.ts";

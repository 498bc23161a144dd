// The auth subsystem's door: password hashing, tokens, roles and the permission policy, client
// addresses and rate limits. Pure policy: depends only on errors.ts (and jose, node:crypto).

export { hashPassword, verifyPassword } from "./password.ts";
export {
  type AccessLevel,
  type Action,
  atLeast,
  authorize,
  canRead,
  type Principal,
  type Role,
  type TableFacts,
  type TableKind,
  USER_ROLES,
  type UserRole,
} from "./policy.ts";
export {
  type JwtClaims,
  type TokenLifetimes,
  type TokenPair,
  Tokens,
  type TokenType,
  unauthorized,
  UNAUTHORIZED_MESSAGE,
} from "./jwt.ts";
export { clientAddress, isLoopback, networkKey } from "./address.ts";
export { FailureLimiter, LoginLimiter, type LoginLimits, RateLimiter } from "./limits.ts";

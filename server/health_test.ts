// Unit test of the healthcheck body (no server, no storage).

import { healthBody } from "./health.ts";

Deno.test("healthcheck body has the SPEC §4 fields", () => {
  const body = healthBody(
    { version: "0.1.0", commit: "abc1234", buildDate: "unknown" },
    1000,
    3,
    13_500,
  );
  const expected = {
    status: "ok",
    version: "0.1.0",
    commit: "abc1234",
    build_date: "unknown",
    uptime_s: 12.5,
    requests_in_flight: 3,
  };
  if (JSON.stringify(body) !== JSON.stringify(expected)) {
    throw new Error(`unexpected body ${JSON.stringify(body)}`);
  }
});

// GET /v1/api/healthcheck (SPEC §4): liveness plus what build is running. Needs no auth and
// touches no storage, so it answers even while the database is busy.

import { JSON_HEADERS } from "./respond.ts";

/** Build facts reported by the healthcheck. */
export interface HealthInfo {
  readonly version: string;
  readonly commit: string;
  readonly buildDate: string;
}

/**
 * The healthcheck body; `startedAt` is a `performance.now()` reading taken at server start.
 *
 * @example
 * healthBody(info, started, 1); // {status:"ok", version:"0.1.0", commit:"1a2b3c4", build_date:"…", uptime_s:12.5, requests_in_flight:1}
 */
export function healthBody(
  info: HealthInfo,
  startedAt: number,
  inFlight: number,
  now = performance.now(),
) {
  return {
    status: "ok",
    version: info.version,
    commit: info.commit,
    build_date: info.buildDate,
    uptime_s: Math.round(now - startedAt) / 1000,
    // HTTP requests being served, this one included (beyond SPEC §4: for operators and tests).
    requests_in_flight: inFlight,
  };
}

/** The healthcheck response. */
export function healthResponse(info: HealthInfo, startedAt: number, inFlight: number): Response {
  return new Response(JSON.stringify(healthBody(info, startedAt, inFlight)), {
    headers: JSON_HEADERS,
  });
}

// Arrow answers (issue 17 item 5): `POST /v1/api/sql` with `Accept:
// application/vnd.apache.arrow.stream` gets one Arrow IPC stream per statement result, back to
// back, so pandas, Polars and DuckDB take results without JSON. Types map exactly: BOOLEAN bool,
// SMALLINT int16, INT int32, BIGINT int64, REAL float32, DOUBLE float64, DECIMAL(p,s)
// decimal128(p,s) (an unconstrained DECIMAL: precision 38 and the largest scale among its values),
// TIMESTAMP timestamp[ns, UTC], DATE date32, BYTES binary, TEXT / UUID / JSON utf8 (JSON as its
// text); a DECIMAL column decimal128 cannot hold exactly (over 38 digits) goes as exact text.
// Repeated column names get `_2`, `_3` …. Each stream's schema metadata carries the statement's
// `row_count`, `took_ms` and `message`; a statement without rows (DDL, DML without RETURNING) is
// a stream of no columns. Errors stay JSON.

export const ARROW_STREAM = "application/vnd.apache.arrow.stream";

/**
 * True when the request's Accept prefers Arrow: listed with a q above 0 and above JSON's (a
 * media range covering JSON — `application/json`, `application/*`, `*\/*` — counts as JSON); on
 * equal q the one listed first wins.
 */
export function wantsArrow(req: Request): boolean {
  const accept = req.headers.get("accept");
  if (accept === null) return false;
  let arrow: [number, number] | undefined; // [q, position]
  let json: [number, number] | undefined;
  accept.toLowerCase().split(",").forEach((item, at) => {
    const [range, ...params] = item.split(";").map((x) => x.trim());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q >= 0 && q <= 1)) return;
    if (range === ARROW_STREAM) arrow = arrow && arrow[0] >= q ? arrow : [q, at];
    else if (range === "application/json" || range === "application/*" || range === "*/*") {
      json = json && json[0] >= q ? json : [q, at];
    }
  });
  if (!arrow || arrow[0] <= 0) return false;
  return !json || arrow[0] > json[0] || (arrow[0] === json[0] && arrow[1] < json[1]);
}

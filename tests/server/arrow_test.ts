// Arrow answers (issue 17 item 5), end to end through a real server: `Accept:
// application/vnd.apache.arrow.stream` gets one IPC stream per result, decoded here with
// apache-arrow and compared value by value with the JSON answer of the same SELECT; every type
// maps as the README says; nulls stay null; a batch gives its streams in order; errors stay JSON.

import { RecordBatchReader, Table } from "apache-arrow";
import { assert, assertEquals, ROOT, rows, withServer } from "./_server.ts";

const ARROW = "application/vnd.apache.arrow.stream";

async function arrowSql(url: string, sql: string): Promise<Response> {
  return await fetch(`${url}/v1/api/sql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: ROOT, accept: ARROW },
    body: JSON.stringify({ sql }),
  });
}

/** Every stream of a body, in order. */
function streams(bytes: Uint8Array): Table[] {
  const out: Table[] = [];
  for (const reader of RecordBatchReader.readAll(bytes)) {
    const batches = reader.readAll();
    out.push(new Table(reader.schema, batches));
  }
  return out;
}

Deno.test("arrow: types map exactly, values equal the JSON answer, batches and errors", async () => {
  await withServer({}, async (s) => {
    await s.root(`CREATE NAMESPACE app;
      CREATE SHARED TABLE app.t (id BIGINT PRIMARY KEY, small SMALLINT, n INT, r REAL, d DOUBLE,
        m DECIMAL(12, 3), big DECIMAL, name TEXT, ok BOOLEAN, at TIMESTAMP, day DATE, j JSON,
        b BYTES, u UUID);
      INSERT INTO app.t VALUES (9007199254740993, -3, 2147483647, 1.5, 2.25, -1234.5, 12.3456,
        'héllo', TRUE, '2026-12-04T10:11:12.123456789Z', '2026-12-04', '{"a":[1,2]}',
        'abc', '6f1c9c5e-2f0b-4d5e-9a55-0b3f1e2d7c11');
      INSERT INTO app.t (id) VALUES (2)`);
    const sql =
      "SELECT id, small, n, r, d, m, big, name, ok, at, day, j, b, u FROM app.t ORDER BY id";
    const res = await arrowSql(s.url, sql);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), ARROW);
    const [t] = streams(new Uint8Array(await res.arrayBuffer()));
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
    assertEquals(types, {
      id: "Int64",
      small: "Int16",
      n: "Int32",
      r: "Float32",
      d: "Float64",
      m: "Decimal[12e+3]", // apache-arrow's text for decimal128(12, 3)
      big: "Decimal[38e+4]",
      name: "Utf8",
      ok: "Bool",
      at: "Timestamp<NANOSECOND, UTC>",
      day: "Date32<DAY>",
      j: "Utf8",
      b: "Binary",
      u: "Utf8",
    });
    assertEquals(t.schema.metadata.get("kalamdb.row_count"), "2");
    const json = rows(await s.sql(sql, { auth: ROOT }));
    assertEquals(t.numRows, json.length);
    const [first, second] = t.toArray().map((r) => r.toJSON());
    const j = json.find((r) => String(r[0]) !== "2")!;
    assertEquals(first.id, 2n); // ORDER BY id: 2 first
    assertEquals(second.id, 9007199254740993n);
    assertEquals(String(second.id), j[0]);
    assertEquals([second.small, second.n, second.r, second.d], [j[1], j[2], j[3], j[4]]);
    // Decimals: the 128-bit value scaled back is the JSON's exact text.
    const dec = (v: Uint32Array, scale: number) => {
      let n = 0n;
      for (let w = 3; w >= 0; w--) n = (n << 32n) | BigInt(v[w]);
      if (n >= 1n << 127n) n -= 1n << 128n;
      const neg = n < 0n;
      const digits = (neg ? -n : n).toString().padStart(scale + 1, "0");
      return `${neg ? "-" : ""}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    };
    assertEquals(dec(second.m, 3), "-1234.500");
    assertEquals(Number(j[5]), -1234.5);
    assertEquals(dec(second.big, 4), "12.3456");
    assertEquals(second.name, j[7]);
    assertEquals(second.ok, true);
    // TIMESTAMP: nanoseconds since the epoch, exactly.
    const at = t.getChild("at")!.data[0].values[1];
    assertEquals(at, BigInt(Date.parse("2026-12-04T10:11:12.123Z")) * 1_000_000n + 456_789n);
    assertEquals(j[9], "2026-12-04T10:11:12.123456789Z");
    assertEquals(new Date(second.day).toISOString().slice(0, 10), j[10]);
    assertEquals(JSON.parse(second.j), j[11]);
    assertEquals([...second.b], [97, 98, 99]);
    assertEquals(j[12], "YWJj");
    assertEquals(second.u, j[13]);
    // The row with only an id: every other column is null.
    for (const [k, v] of Object.entries(first)) if (k !== "id") assertEquals(v, null, k);

    // A batch: one stream per statement, DDL/DML as streams without columns.
    const batch = await arrowSql(
      s.url,
      "SELECT COUNT(*) AS n FROM app.t; UPDATE app.t SET n = 1 WHERE id = 2; SELECT 'x' AS s",
    );
    const parts = streams(new Uint8Array(await batch.arrayBuffer()));
    assertEquals(parts.length, 3);
    assertEquals(parts[0].toArray()[0].toJSON().n, 2n);
    assertEquals(parts[1].schema.fields.length, 0);
    assertEquals(parts[1].schema.metadata.get("kalamdb.row_count"), "1");
    assertEquals(parts[2].toArray()[0].toJSON().s, "x");

    // Errors stay JSON, with their status.
    const bad = await arrowSql(s.url, "SELECT * FROM app.nope");
    assertEquals(bad.status, 404);
    assert((bad.headers.get("content-type") ?? "").startsWith("application/json"));
    assertEquals((await bad.json()).error.code, "TABLE_NOT_FOUND");
  });
});

Deno.test("arrow: decimals past 38 digits go as exact text; shared names; Accept preferences", async () => {
  await withServer({}, async (s) => {
    await s.root(`CREATE NAMESPACE app;
      CREATE SHARED TABLE app.u (id INT PRIMARY KEY, v DECIMAL);
      INSERT INTO app.u VALUES (1, 1000000000000000000000000000000), (2, 0.00000000001)`);
    const decode = async (sql: string) => {
      const res = await arrowSql(s.url, sql);
      assertEquals(res.status, 200, sql);
      return streams(new Uint8Array(await res.arrayBuffer()))[0];
    };
    // 31 integer digits + 11 fraction digits: no decimal128 holds both, so the exact text.
    const mixed = await decode("SELECT v FROM app.u ORDER BY id");
    assertEquals(String(mixed.schema.fields[0].type), "Utf8");
    assertEquals(mixed.toArray().map((r) => r.toJSON().v), [
      "1000000000000000000000000000000",
      "0.00000000001",
    ]);
    const huge = await decode("SELECT 123456789012345678901234567890123456789012345 AS h");
    assertEquals(huge.toArray()[0].toJSON().h, "123456789012345678901234567890123456789012345");
    const wide = await decode("SELECT CAST(1.5 AS DECIMAL(50, 2)) AS x");
    assertEquals(String(wide.schema.fields[0].type), "Utf8"); // decimal128 allows precision ≤ 38
    assertEquals(wide.toArray()[0].toJSON().x, "1.50");
    // Two columns of one name (and different types): the later one is a_2 (a_2 taken: a_3).
    const twins = await decode("SELECT 1 AS a, 'x' AS a, 2 AS a_2, 3 AS a");
    assertEquals(
      twins.schema.fields.map((f) => `${f.name}:${f.type}`),
      ["a:Int32", "a_3:Utf8", "a_2:Int32", "a_4:Int32"],
    );
    assertEquals(twins.toArray()[0].toJSON(), { a: 1, a_3: "x", a_2: 2, a_4: 3 });
    // Accept: JSON preferred by q, or Arrow refused with q=0, answers JSON.
    for (const accept of [`application/json, ${ARROW};q=0.5`, `${ARROW}; q=0`, "*/*"]) {
      const res = await fetch(`${s.url}/v1/api/sql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: ROOT, accept },
        body: JSON.stringify({ sql: "SELECT 1 AS n" }),
      });
      assertEquals(res.headers.get("content-type"), "application/json", accept);
      assertEquals((await res.json()).results[0].rows, [[1]], accept);
    }
    const preferred = await fetch(`${s.url}/v1/api/sql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: ROOT,
        accept: `application/json;q=0.9, ${ARROW}`,
      },
      body: JSON.stringify({ sql: "SELECT 1 AS n" }),
    });
    assertEquals(preferred.headers.get("content-type"), ARROW);
    await preferred.body?.cancel();
  });
});

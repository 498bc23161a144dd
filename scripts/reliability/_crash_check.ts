// The end-of-run checks of the crash harness, each a count that must be 0:
// - through SQL, per scope: every acknowledged row present exactly once with its last
//   acknowledged value (`lost`, `stale`), no acknowledged delete back (`resurrected`), no key
//   twice in a scan (`duplicates`), no key nobody wrote (`phantom`), COUNT(*) = COUNT(DISTINCT k)
//   = the scan's row count, primary-key lookups agreeing with the scan; every write in doubt
//   applied to all of its rows or to none (`half-applied`);
// - on disk, per manifest.json: every listed segment exists with the listed size, row count and
//   `_seq` range (≤ the manifest's flushed_seq), no file listed twice, no key live (not
//   tombstoned) in two segments; and, once a final flush emptied the buffer, the segments alone
//   hold exactly the rows SQL returns;
// - per subscriber: every applied write's change arrived exactly once (`missed`, `dup changes`),
//   none for a write that is not there (`ghost`), no change for a value nobody wrote, and its
//   view equals the table.

import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { type Cluster, rowsOf } from "./_crash_server.ts";
import type { Model, Scope } from "./_crash_model.ts";
import type { Subscriber } from "./_crash_live.ts";

/** Every counter of the report; `problems` holds the first examples of each failure. */
export interface Tally {
  lost: number;
  stale: number;
  resurrected: number;
  duplicates: number;
  phantom: number;
  halfApplied: number;
  countMismatch: number;
  unknownApplied: number;
  unknownAbsent: number;
  manifestProblems: number;
  segments: number;
  orphans: number;
  missed: number;
  dupChanges: number;
  ghost: number;
  viewMismatch: number;
  coveredByReset: number;
  problems: string[];
}

export function emptyTally(): Tally {
  return {
    lost: 0,
    stale: 0,
    resurrected: 0,
    duplicates: 0,
    phantom: 0,
    halfApplied: 0,
    countMismatch: 0,
    unknownApplied: 0,
    unknownAbsent: 0,
    manifestProblems: 0,
    segments: 0,
    orphans: 0,
    missed: 0,
    dupChanges: 0,
    ghost: 0,
    viewMismatch: 0,
    coveredByReset: 0,
    problems: [],
  };
}

function problem(t: Tally, what: keyof Tally, text: string): void {
  (t[what] as number)++;
  if (t.problems.length < 40) t.problems.push(`${what}: ${text}`);
}

/** Final SQL state of every scope: key → value (a key seen twice counts as a duplicate). */
export async function readState(cluster: Cluster, model: Model, t: Tally, lookups = true) {
  const server = await cluster.ready();
  const state = new Map<string, Map<number, number>>();
  for (const s of model.scopes) {
    const rows = rowsOf(await server.sql(`SELECT k, v FROM ${s.table} ORDER BY k`, s.auth), s.name);
    const m = new Map<number, number>();
    for (const [k, v] of rows) {
      if (m.has(Number(k))) problem(t, "duplicates", `${s.name}: key ${k} twice in a scan`);
      m.set(Number(k), Number(v));
    }
    const [[count, distinct]] = rowsOf(
      await server.sql(`SELECT COUNT(*), COUNT(DISTINCT k) FROM ${s.table}`, s.auth),
      s.name,
    );
    if (Number(count) !== rows.length || Number(distinct) !== m.size) {
      problem(
        t,
        "countMismatch",
        `${s.name}: COUNT ${count}, DISTINCT ${distinct}, scan ${rows.length}`,
      );
    }
    // Primary-key lookups take another path (no scan): a sample of every kind of key.
    const keys = lookups ? [...s.keys.keys()] : [];
    for (let i = 0; i < keys.length; i += Math.max(1, Math.floor(keys.length / 25))) {
      const k = keys[i];
      const got = rowsOf(
        await server.sql(`SELECT v FROM ${s.table} WHERE k = ${k}`, s.auth),
        s.name,
      );
      const want = m.has(k) ? [[String(m.get(k))]] : [];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        problem(t, "countMismatch", `${s.name}: k = ${k} → ${JSON.stringify(got)}, scan ${want}`);
      }
    }
    state.set(s.name, m);
  }
  return state;
}

/** Compares the final state with what the clients know; returns each write in doubt's outcome. */
export function checkModel(
  model: Model,
  state: Map<string, Map<number, number>>,
  t: Tally,
): Map<number, boolean> {
  for (const s of model.scopes) {
    const m = state.get(s.name)!;
    for (const [k, st] of s.keys) {
      if (st.kind === "present") {
        if (!m.has(k)) problem(t, "lost", `${s.name}: key ${k} (v ${st.v}) missing`);
        else if (m.get(k) !== st.v) {
          problem(t, "stale", `${s.name}: key ${k} has v ${m.get(k)}, acknowledged ${st.v}`);
        }
      } else if (st.kind === "deleted" && m.has(k)) {
        problem(t, "resurrected", `${s.name}: deleted key ${k} is back (v ${m.get(k)})`);
      }
    }
    for (const k of m.keys()) {
      if (!s.keys.has(k)) problem(t, "phantom", `${s.name}: key ${k} was never written`);
    }
  }
  const applied = new Map<number, boolean>();
  for (const w of model.unknown) {
    const m = state.get(w.scope)!;
    const is = (k: number, v: number | null) => v === null ? !m.has(k) : m.get(k) === v;
    const after = w.rows.filter((r) => is(r.k, r.after)).length;
    const before = w.rows.filter((r) => is(r.k, r.before)).length;
    if (after === w.rows.length) t.unknownApplied++;
    else if (before === w.rows.length) t.unknownAbsent++;
    else if (after + before === w.rows.length) {
      problem(t, "halfApplied", `${w.scope}: ${after} of ${w.rows.length} rows of "${w.sql}"`);
    } else problem(t, "stale", `${w.scope}: a row of "${w.sql}" has neither outcome`);
    applied.set(w.id, after === w.rows.length);
  }
  return applied;
}

/** Per subscriber: every applied write seen exactly once, nothing else, and the same view. */
export function checkSubscribers(
  model: Model,
  subs: readonly Subscriber[],
  state: Map<string, Map<number, number>>,
  applied: Map<number, boolean>,
  t: Tally,
): void {
  for (const sub of subs) {
    const name = sub.scope.name;
    const expectedValues = new Set<number>();
    for (const w of model.writes) {
      if (w.scope !== name) continue;
      const done = w.unknown === undefined || applied.get(w.unknown) === true;
      for (const r of w.rows) {
        const count = r.after === null ? sub.deletes.get(r.k) ?? 0 : sub.seen.get(r.after) ?? 0;
        if (r.after !== null) expectedValues.add(r.after);
        const what = r.after === null ? `delete of ${r.k}` : `k ${r.k} = ${r.after}`;
        if (!done && count > 0) problem(t, "ghost", `${name}: saw ${what}, which is not there`);
        else if (done && count > 1) problem(t, "dupChanges", `${name}: ${what} arrived ${count}×`);
        else if (done && count === 0) {
          if (sub.resets > 0) t.coveredByReset++;
          else problem(t, "missed", `${name}: ${what} never arrived`);
        }
      }
    }
    for (const v of sub.seen.keys()) {
      if (!expectedValues.has(v)) problem(t, "ghost", `${name}: a change carried unknown v ${v}`);
    }
    const m = state.get(name)!;
    const same = m.size === sub.view.size && [...m].every(([k, v]) => sub.view.get(k) === v);
    if (!same) {
      problem(t, "viewMismatch", `${name}: view has ${sub.view.size} rows, table ${m.size}`);
    }
    for (const a of sub.anomalies) problem(t, "dupChanges", a);
  }
}

/** True when every subscriber's view equals the table (they caught up after the last restart). */
export function caughtUp(subs: readonly Subscriber[], state: Map<string, Map<number, number>>) {
  return subs.every((sub) => {
    const m = state.get(sub.scope.name)!;
    return m.size === sub.view.size && [...m].every(([k, v]) => sub.view.get(k) === v);
  });
}

interface SegmentRow {
  k: bigint;
  v: bigint | null;
  _seq: bigint;
  _deleted: boolean;
}

/**
 * Reads every manifest.json under the data dir and checks it against its segment files.
 * Returns, per scope, the rows the segments alone say are live (key → value).
 */
export async function checkManifests(
  dataDir: string,
  scopes: readonly Scope[],
  t: Tally,
): Promise<Map<string, Map<number, number>>> {
  const cold = new Map<string, Map<number, number>>();
  for (const dir of manifestDirs(`${dataDir}/storage`)) {
    const scope = scopeOfDir(dir, scopes);
    const where = dir.slice(dataDir.length + 1);
    let json;
    try {
      json = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    } catch (err) {
      problem(
        t,
        "manifestProblems",
        `${where}/manifest.json unreadable: ${(err as Error).message}`,
      );
      continue;
    }
    const tomb = new Map<string, bigint>(
      (json.tombstones as [string, string][]).map(([k, s]) => [k, BigInt(s)]),
    );
    const live = new Map<number, { seq: bigint; row: SegmentRow }>();
    const listed = new Set<string>();
    for (const seg of json.segments) {
      t.segments++;
      if (listed.has(seg.file)) {
        problem(t, "manifestProblems", `${where}: ${seg.file} listed twice`);
      }
      listed.add(seg.file);
      await checkSegment(`${dir}/${seg.file}`, `${where}/${seg.file}`, seg, tomb, live, t);
      if (BigInt(seg.max_seq) > BigInt(json.flushed_seq)) {
        problem(t, "manifestProblems", `${where}/${seg.file}: max_seq above flushed_seq`);
      }
    }
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && e.name.endsWith(".parquet") && !listed.has(e.name)) t.orphans++;
    }
    if (scope) {
      const m = new Map<number, number>();
      for (const [k, { row }] of live) if (!row._deleted) m.set(k, Number(row.v));
      cold.set(scope.name, m);
    }
  }
  return cold;
}

/** One listed segment: exists with its size, rows and `_seq` range; adds its live rows. */
async function checkSegment(
  path: string,
  where: string,
  // deno-lint-ignore no-explicit-any
  seg: any,
  tomb: Map<string, bigint>,
  live: Map<number, { seq: bigint; row: SegmentRow }>,
  t: Tally,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    return problem(t, "manifestProblems", `${where}: listed but missing`);
  }
  if (bytes.length !== seg.bytes) {
    problem(
      t,
      "manifestProblems",
      `${where}: ${bytes.length} bytes, listed ${seg.bytes}`,
    );
  }
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await parquetReadObjects({
    file: file as ArrayBuffer,
    compressors,
    columns: ["k", "v", "_seq", "_deleted"],
  }) as SegmentRow[];
  const meta = parquetMetadata(file as ArrayBuffer);
  if (Number(meta.num_rows) !== seg.rows || rows.length !== seg.rows) {
    problem(
      t,
      "manifestProblems",
      `${where}: ${rows.length} rows, listed ${seg.rows}`,
    );
  }
  let min: bigint | null = null, max: bigint | null = null;
  for (const r of rows) {
    if (min === null || r._seq < min) min = r._seq;
    if (max === null || r._seq > max) max = r._seq;
    const tk = tomb.get(`b${r.k}`);
    if (tk !== undefined && tk > r._seq) continue; // superseded by a later version
    const k = Number(r.k);
    const had = live.get(k);
    if (had) {
      problem(
        t,
        "duplicates",
        `${where}: key ${k} live in two segments (${had.seq}, ${r._seq})`,
      );
      if (had.seq > r._seq) continue;
    }
    live.set(k, { seq: r._seq, row: r });
  }
  if (rows.length > 0 && (String(min) !== seg.min_seq || String(max) !== seg.max_seq)) {
    problem(
      t,
      "manifestProblems",
      `${where}: _seq ${min}..${max}, listed ${seg.min_seq}..${seg.max_seq}`,
    );
  }
}

/** Directories under `root` holding a manifest.json. */
function manifestDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile && e.name === "manifest.json")) out.push(dir);
    for (const e of entries) if (e.isDirectory) walk(`${dir}/${e.name}`);
  };
  walk(root);
  return out;
}

/** The model scope a segment directory belongs to (`…/kv-<id>/<user>`, `…/shared-<id>`). */
function scopeOfDir(dir: string, scopes: readonly Scope[]): Scope | undefined {
  const parts = dir.split("/");
  const last = parts.at(-1)!, parent = parts.at(-2)!;
  return scopes.find((s) =>
    s.user === "" ? /^shared-\d+$/.test(last) : /^kv-\d+$/.test(parent) && last === s.user
  );
}

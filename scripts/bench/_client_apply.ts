// Client benchmark, part 2 in process: applying a batch of changes to 10,000 live rows with the
// SDK's reducer (`LiveRowsState.apply` per change, then `get()` once per batch, as `live()` does
// in its onBatch) vs by hand to a plain `Map` keyed by id (the raw building block: `delete` the
// old rows, `set` the new ones), and vs the Map plus a fresh `Array.from(map.values())` per batch
// (what an app needs to hand a renderer a new array; unsorted). Same typed row objects, same
// change sequence (50 % updates, 25 % inserts at random places, 25 % deletes); rounds alternate
// the sides and report the median.

import { type Change, LiveRowsState } from "../../client/mod.ts";
import { changeSequence, type ItemRow, itemRow, median, round } from "./_client_kit.ts";

export interface ApplyRow {
  /** Changes per batch. */
  readonly batch: number;
  readonly batches: number;
  /** Microseconds per batch, median over rounds. */
  readonly sdk_us: number;
  readonly map_us: number;
  readonly map_array_us: number;
  /** sdk_us ÷ map_us, and its lowest / highest over the rounds. */
  readonly ratio: number;
  readonly ratio_min: number;
  readonly ratio_max: number;
  readonly rounds: number;
}

type Batch = Change<ItemRow>[];

function batchesOf(changes: Change<ItemRow>[], size: number): Batch[] {
  const out: Batch[] = [];
  for (let i = 0; i < changes.length; i += size) out.push(changes.slice(i, i + size));
  return out;
}

/** µs per batch through LiveRowsState (apply each change, then get() as live() does). */
function viaState(initial: readonly ItemRow[], batches: Batch[]): { us: number; size: number } {
  const state = new LiveRowsState<ItemRow>();
  state.setKey("id");
  state.reset(initial);
  state.get();
  const t0 = performance.now();
  for (const b of batches) {
    for (const c of b) state.apply(c);
    state.get();
  }
  const us = ((performance.now() - t0) * 1000) / batches.length;
  return { us, size: state.size };
}

/** µs per batch on a Map by hand; `array`: also a fresh array of the values per batch. */
function viaMap(
  initial: readonly ItemRow[],
  batches: Batch[],
  array: boolean,
): { us: number; size: number } {
  const map = new Map<bigint, ItemRow>();
  for (const r of initial) map.set(r.id, r);
  let sink = 0;
  const t0 = performance.now();
  for (const b of batches) {
    for (const c of b) {
      for (const old of c.oldRows) map.delete(old.id);
      for (const row of c.rows) map.set(row.id, row);
    }
    if (array) sink += Array.from(map.values()).length;
  }
  const us = ((performance.now() - t0) * 1000) / batches.length;
  return { us, size: map.size + (sink < 0 ? 1 : 0) };
}

/**
 * Runs batch sizes 1, 10 and 100 over `rows` rows; `scale` < 1 shortens it.
 *
 * @example
 * const rows = runApplyBench(10_000, 0.05); // [{ batch: 1, sdk_us, map_us, ratio, … }, …]
 */
export function runApplyBench(rows: number, scale: number): ApplyRow[] {
  const initial = Array.from({ length: rows }, (_, i) => itemRow((i + 1) * 16));
  const rounds = scale < 1 ? 3 : 7;
  const out: ApplyRow[] = [];
  for (const size of [1, 10, 100]) {
    const total = Math.max(size * 20, Math.round((size === 1 ? 5000 : size * 400) * scale));
    const batches = batchesOf(changeSequence(rows, total, size), size);
    const sdk: number[] = [], map: number[] = [], arr: number[] = [], ratios: number[] = [];
    viaState(initial, batches); // warm-up of both sides' code
    viaMap(initial, batches, true);
    for (let r = 0; r < rounds; r++) {
      const s = viaState(initial, batches);
      const m = viaMap(initial, batches, false);
      const a = viaMap(initial, batches, true);
      if (s.size !== m.size || a.size !== m.size) {
        throw new Error(`live rows: ${s.size} rows after the changes, Map ${m.size}`);
      }
      sdk.push(s.us);
      map.push(m.us);
      arr.push(a.us);
      ratios.push(s.us / m.us);
    }
    const row: ApplyRow = {
      batch: size,
      batches: batches.length,
      sdk_us: round(median(sdk), 2),
      map_us: round(median(map), 2),
      map_array_us: round(median(arr), 2),
      ratio: round(median(sdk) / median(map), 2),
      ratio_min: round(Math.min(...ratios), 2),
      ratio_max: round(Math.max(...ratios), 2),
      rounds,
    };
    console.log(
      `    batch of ${size}: LiveRowsState ${row.sdk_us} µs, Map ${row.map_us} µs, ` +
        `Map + array ${row.map_array_us} µs (ratio ${row.ratio}, ${row.ratio_min} … ${row.ratio_max})`,
    );
    out.push(row);
  }
  return out;
}

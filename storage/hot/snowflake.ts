// Snowflake ids (SPEC §2): 41 bits of milliseconds since 2024-01-01T00:00:00Z, 10 bits node id,
// 12 bits counter. Strictly increasing per node: when the clock stalls or goes back, or the
// counter overflows within a millisecond, the generator borrows the next millisecond.

/** 2024-01-01T00:00:00Z in Unix milliseconds. */
export const SNOWFLAKE_EPOCH_MS = 1_704_067_200_000;

export class Snowflake {
  readonly nodeId: number;
  #lastMs = 0;
  #counter = 0;

  /** `floor` is the largest id already handed out (from disk), so restarts never go back. */
  constructor(nodeId: number, floor = 0n) {
    if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) {
      throw new RangeError(`node id must be 0-1023, got ${nodeId}`);
    }
    this.nodeId = nodeId;
    this.raiseFloor(floor);
  }

  /** Makes every later id greater than `seq`. */
  raiseFloor(seq: bigint): void {
    const ms = Number(seq >> 22n);
    const counter = Number(seq & 0xfffn);
    if (ms > this.#lastMs || (ms === this.#lastMs && counter > this.#counter)) {
      this.#lastMs = ms;
      this.#counter = counter;
    }
  }

  /** The last id handed out (or the floor): every later write has a larger `_seq`. */
  last(): bigint {
    return (BigInt(this.#lastMs) << 22n) | (BigInt(this.nodeId) << 12n) | BigInt(this.#counter);
  }

  /** The next id. */
  next(): bigint {
    const now = Date.now() - SNOWFLAKE_EPOCH_MS;
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else if (++this.#counter > 0xfff) {
      this.#lastMs++;
      this.#counter = 0;
    }
    return (BigInt(this.#lastMs) << 22n) | (BigInt(this.nodeId) << 12n) | BigInt(this.#counter);
  }
}

/** Unix milliseconds at which a Snowflake id was made. */
export function snowflakeMs(id: bigint): number {
  return Number(id >> 22n) + SNOWFLAKE_EPOCH_MS;
}

// Test kit: an ObjectStore that passes every call to a real one, for shims that change one
// method (a write that fails, a write that waits) — as SQLite's test VFS wraps the real one.

import type { ObjectStore } from "../storage/mod.ts";

export class PassThroughStore implements ObjectStore {
  protected readonly inner: ObjectStore;

  constructor(inner: ObjectStore) {
    this.inner = inner;
  }
  put(path: string, data: Uint8Array): Promise<void> {
    return this.inner.put(path, data);
  }
  get(path: string) {
    return this.inner.get(path);
  }
  getRange(path: string, offset: number, length: number) {
    return this.inner.getRange(path, offset, length);
  }
  head(path: string) {
    return this.inner.head(path);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
  delete(path: string) {
    return this.inner.delete(path);
  }
}

// The object_store room: where segment and manifest bytes live — one interface (store.ts) with a
// filesystem (fs.ts) and an S3 (s3.ts) backend. It touches only the filesystem or the network;
// it knows nothing of tables, SQL or SQLite. The backends import the interface, never each other,
// and only this door picks one.

import { DbError } from "../../errors.ts";
import { FsObjectStore } from "./fs.ts";
import { S3ObjectStore } from "./s3.ts";
import type { ObjectStore, ObjectStoreConfig } from "./store.ts";

export { checkObjectPath } from "./store.ts";
export type { ObjectStore, ObjectStoreConfig } from "./store.ts";

/**
 * Opens the store a storage definition points at.
 *
 * @example
 * const store = openObjectStore({ kind: "filesystem", root: "./data/storage" });
 * await store.put("app/messages/alice/batch-1.parquet", bytes);
 */
export function openObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.kind) {
    case "filesystem":
      return new FsObjectStore(config.root);
    case "s3":
      return new S3ObjectStore(config);
    default: {
      const kind: never = config;
      throw new DbError("INVALID_PARAMETER", `Unknown object store kind ${JSON.stringify(kind)}`);
    }
  }
}

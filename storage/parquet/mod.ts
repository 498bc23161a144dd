// The parquet room: the segment file format only — encode rows of typed columns into a Parquet
// file (zstd, row groups with statistics), decode them back (whole, some columns, some row
// groups) and read a footer. No I/O: bytes in, bytes out. It may use sql/ values and types.

export {
  compareBounds,
  decodeSegment,
  DEFAULT_ROW_GROUP_SIZE,
  encodeSegment,
  SegmentEncoder,
  segmentMetadata,
} from "./segment.ts";
export type { RowGroupInfo, SegmentColumn, SegmentMetadata, SegmentStats } from "./segment.ts";

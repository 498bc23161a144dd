// The parquet room: the segment file format only — encode rows of typed columns into a Parquet
// file (zstd, row groups with statistics), decode them back (whole, some columns, some row
// groups) and read a footer. No I/O: bytes in, bytes out. It may use sql/ values and types.

export {
  compareBounds,
  decodeSegment,
  decodeSegmentColumns,
  DEFAULT_ROW_GROUP_SIZE,
  encodeSegment,
  SegmentEncoder,
  segmentFileMetadata,
  segmentMetadata,
} from "./segment.ts";
export type {
  DecodedColumns,
  RowGroupInfo,
  SegmentColumn,
  SegmentFile,
  SegmentMetadata,
  SegmentStats,
} from "./segment.ts";

export {
  compareBounds,
  decodeSegment,
  DEFAULT_ROW_GROUP_SIZE,
  encodeSegment,
  SegmentEncoder,
  segmentMetadata,
} from "./segment.ts";
export type { RowGroupInfo, SegmentColumn, SegmentMetadata, SegmentStats } from "./segment.ts";

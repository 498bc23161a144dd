// The export room (SPEC §9): the `exports` table (exports_table.ts, its one owner) and the zip
// an export job writes (zip_file.ts). The statements and the job that take the snapshot live in
// statements/export.ts; the download route in server/.

export { type ExportRow, ExportsTable } from "./exports_table.ts";
export { type ExportInput, type ExportTable, userDirName, writeExportZip } from "./zip_file.ts";

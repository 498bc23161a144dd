// Files an export leaves behind, for the CLI export tests (cli/export_test.ts and
// tests/cli/export_cli_test.ts): the zips in a data directory, a directory's entry names.

/** The zips a data directory holds (`exports/<user>/<id>.zip`). */
export async function zipsIn(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".zip")) found.push(`${dir}/${e.name}`);
    }
  };
  await walk(`${dataDir}/exports`);
  return found;
}

/** A directory's entry names, sorted. */
export async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
}

// A small tmpfs of its own for disk-full tests: mounted on a fresh temp dir, resized to give the
// space back, unmounted and removed at the end. Mounting needs root (or CAP_SYS_ADMIN); where
// the machine refuses, `mountTmpfs` returns the reason and the caller skips with it printed.

/** A mounted tmpfs: `resize` changes its size in place (files stay), `unmount` removes it. */
export interface Tmpfs {
  readonly dir: string;
  resize(megabytes: number): Promise<void>;
  unmount(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (out.success) return undefined;
    return new TextDecoder().decode(out.stderr).trim() || `${cmd} exited ${out.code}`;
  } catch (err) {
    return `${cmd}: ${(err as Error).message}`;
  }
}

/** Mounts a tmpfs of `megabytes`; the reason as a string when this machine cannot. */
export async function mountTmpfs(megabytes: number): Promise<Tmpfs | string> {
  if (Deno.build.os !== "linux") return `tmpfs mounts need Linux (this is ${Deno.build.os})`;
  const dir = await Deno.makeTempDir({ prefix: "kalamdb-tmpfs-" });
  const failed = await run("mount", [
    "-t",
    "tmpfs",
    "-o",
    `size=${megabytes}m,mode=0700`,
    "tmpfs",
    dir,
  ]);
  if (failed) {
    await Deno.remove(dir).catch(() => {});
    return `cannot mount a tmpfs here (needs root): ${failed}`;
  }
  let mounted = true;
  return {
    dir,
    async resize(mb: number) {
      const err = await run("mount", ["-o", `remount,size=${mb}m`, dir]);
      if (err) throw new Error(`resize tmpfs ${dir}: ${err}`);
    },
    async unmount() {
      if (!mounted) return;
      const err = await run("umount", [dir]);
      if (err) throw new Error(`umount ${dir}: ${err}`);
      mounted = false;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

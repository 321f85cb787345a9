import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Returns a temporary path beside `path`, on the same file system, so a rename can replace it. */
export function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Flushes a directory, so that a rename or link in it survives a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves a flushed temporary file to `path`: renames it over `path`, or links it when
 * `exclusive`, which makes a create-if-absent. Returns false when `exclusive` and `path` exists.
 * The temporary file is removed in every case.
 */
async function place(temporary: string, path: string, exclusive: boolean): Promise<boolean> {
  let created = true;
  try {
    if (exclusive) {
      await link(temporary, path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        created = false;
      });
    } else {
      await rename(temporary, path);
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(dirname(path));
  return created;
}

/**
 * Writes a file so that readers see the old content or the new, never a part: the content goes
 * to a flushed temporary file beside `path` that is then renamed into place. With `mode` the file
 * gets exactly that mode, whatever the umask. Returns false when `exclusive` and the file exists.
 */
export async function writeAtomically(
  path: string,
  content: string | Buffer,
  options: { mode?: number; exclusive?: boolean } = {},
): Promise<boolean> {
  const temporary = temporaryBeside(path);
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    options.mode ?? 0o644,
  );
  try {
    await handle.writeFile(content);
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.sync();
  } catch (error) {
    // A write that fails part way, such as on a full disk, leaves part of the content behind.
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return place(temporary, path, options.exclusive ?? false);
}

/** Gives a temporary file filled by other means its mode, flushes it and renames it over `path`. */
export async function commitTemporary(
  temporary: string,
  path: string,
  mode: number,
): Promise<void> {
  try {
    const handle = await open(temporary, constants.O_RDONLY);
    try {
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await place(temporary, path, false);
}

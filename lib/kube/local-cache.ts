import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shortHash } from '../store/names.js';

/**
 * Returns the node-local cache directory for one API server and namespace, because a
 * resourceVersion read from one server means nothing on another.
 */
export function cacheScope(cacheDir: string, server: string, namespace: string): string {
  return join(cacheDir, 'kube-cache', shortHash(`${server}\n${namespace}`, 16));
}

/** Reads a cached JSON value; a missing or damaged file reads as undefined. */
export async function readCached<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/**
 * Writes a cached JSON value by renaming a complete file into place. Failures are ignored,
 * because a cache that cannot be written only costs a request the next time.
 */
export async function writeCached(path: string, value: unknown): Promise<void> {
  try {
    await mkdir(join(path, '..'), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(value));
    await rename(temporary, path);
  } catch {
    // Ignored on purpose; see above.
  }
}

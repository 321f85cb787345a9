import { mkdir, readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Server, createServer } from 'node:net';
import { LockBusyError, StoreUnavailableError } from '../errors.js';
import { writeAtomically } from './atomic.js';

const FIRST_RETRY_DELAY_MS = 1;
const MAX_RETRY_DELAY_MS = 25;

/**
 * Wait used for a host-wide lock when the caller passes 0: its holder finishes within milliseconds, so
 * waiting this long is cheaper than moving to another shard.
 */
export const BRIEF_WAIT_MS = 300;

function tryListen(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: `\0${name}`, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/**
 * Derives lock names from a random key kept in `dir` (mode 0600), so that a process that cannot
 * read the key cannot guess a lock's name and hold it to block the plugin.
 */
export async function lockNamer(dir: string): Promise<(...parts: string[]) => string> {
  const key = await readOrCreateKey(dir);
  return (...parts) =>
    `leasehold-${createHash('sha256').update(key).update(parts.join('\n')).digest('hex').slice(0, 40)}`;
}

/**
 * Reads the lock key, creating it when absent. The key is written to a private file and linked
 * into place, so a racing process never reads a partial key. A partial key would give that
 * process different lock names, and it would write without holding the lock.
 */
async function readOrCreateKey(dir: string): Promise<Buffer> {
  const path = join(dir, '.lock-key');
  await mkdir(dir, { recursive: true });
  const existing = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing) return existing;
  // A create-if-absent: when another process created the key first, its key is the one to use.
  await writeAtomically(path, randomBytes(32), { mode: 0o600, exclusive: true });
  return readFile(path);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Takes a host-wide mutex by binding a Linux abstract Unix socket. The kernel releases the name
 * the moment its process exits, however it exits, so a killed holder never leaves a stale lock.
 * A paused holder keeps it, and waiters time out with LockBusyError instead of writing around
 * it. A timeout of 0 waits BRIEF_WAIT_MS.
 *
 * NOTE: abstract socket names are scoped to a network namespace. Every process sharing a store
 * directory must run in the same one, as runtimes run CNI plugins (in the host namespace).
 */
export async function acquireSocketLock(
  name: string,
  timeoutMs: number,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + (timeoutMs === 0 ? BRIEF_WAIT_MS : timeoutMs);
  let delay = FIRST_RETRY_DELAY_MS;
  for (;;) {
    let server: Server | undefined;
    try {
      server = await tryListen(name);
    } catch (error) {
      throw new StoreUnavailableError(`failed to take lock ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (server) {
      const held = server;
      return () => new Promise<void>((resolve) => held.close(() => resolve()));
    }
    if (Date.now() >= deadline) {
      throw new LockBusyError(
        `timed out after ${timeoutMs} ms waiting for lock ${name}: another plugin process has it; retry, and look for a hung leasehold process if this repeats`,
      );
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
  }
}

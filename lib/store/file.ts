import { mkdir, readFile, readdir, realpath, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CniCode, ConflictError, HintUnreadableError, LeaseholdError, StoreUnavailableError } from '../errors.js';
import type { NetworkDefinition } from '../ipam/network.js';
import { type ShardData, shardProblem } from '../ipam/shard.js';
import { syncDirectory, writeAtomically } from './atomic.js';
import { attachmentSlug, networkSlug } from './names.js';
import { acquireSocketLock, lockNamer } from './socket-lock.js';
import type { AttachmentHints, ShardLock, ShardStore, Versioned } from './types.js';

export const LOCK_TIMEOUT_MS = 30_000;

/** How long a command waits for another command on the same attachment. */
export const ATTACHMENT_LOCK_WAIT_MS = 60_000;

/** A shard file: the data and the version it was written as. */
interface ShardFile {
  version: number;
  data: ShardData;
}

function ioError(action: string, path: string, error: unknown): LeaseholdError {
  const code = (error as NodeJS.ErrnoException).code;
  const message = `failed to ${action} ${path}: ${(error as Error).message}`;
  if (code === 'EAGAIN' || code === 'EBUSY' || code === 'EMFILE' || code === 'ENFILE' || code === 'ENOSPC') {
    return new StoreUnavailableError(message, { cause: error });
  }
  return new LeaseholdError('STORE_IO_FAILED', CniCode.IO_FAILURE, `${message}; check that the store directory is writable by the plugin`, { cause: error });
}

function corrupt(path: string, error: unknown): LeaseholdError {
  return new LeaseholdError('STORE_DATA_INVALID', CniCode.STORE_DATA_INVALID, `invalid data in ${path}: ${(error as Error).message}; restore it from a backup, and do not remove it while pods hold its addresses`, { cause: error });
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('read', path, error);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw corrupt(path, error);
  }
}

/**
 * The embedded store: one directory per network under `dir`, one JSON file per shard. Safe for
 * many plugin processes on one host: a shard is changed only under its host-wide lock, by
 * comparing the stored version and renaming a complete new file into place.
 */
export class FileStore implements ShardStore, AttachmentHints {
  private readonly held = new Set<string>();
  private namer: ((...parts: string[]) => string) | undefined;
  readonly dir: string;

  constructor(
    dir: string,
    private readonly lockTimeoutMs = LOCK_TIMEOUT_MS,
  ) {
    this.dir = resolve(dir);
  }

  private networkDir(network: string): string {
    return join(this.dir, networkSlug(network));
  }

  private shardDir(network: string): string {
    return join(this.networkDir(network), 'shards');
  }

  /**
   * Lock names come from the directory's real path, so every spelling of it (a trailing slash,
   * a symbolic link) takes the same locks, and from the directory's secret key.
   */
  private async lockName(...parts: string[]): Promise<string> {
    if (!this.namer) {
      await this.ensureDir(this.dir);
      const real = await realpath(this.dir);
      const namer = await lockNamer(real).catch((error) => {
        throw ioError('create the lock key in', real, error);
      });
      this.namer = (...rest) => namer(real, ...rest);
    }
    return this.namer(...parts);
  }

  /** Serializes commands for one attachment on this host; runtimes should not overlap them. */
  async lockAttachment(network: string, containerId: string, ifName: string): Promise<() => Promise<void>> {
    return acquireSocketLock(await this.lockName('attachment', network, containerId, ifName), ATTACHMENT_LOCK_WAIT_MS);
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (error) {
      throw ioError('create directory', dir, error);
    }
  }

  async readShard(network: string, key: string): Promise<Versioned<ShardData> | undefined> {
    const path = join(this.shardDir(network), `${key}.json`);
    const file = await readJson<ShardFile>(path);
    if (!file) return undefined;
    const problem = Number.isInteger(file.version) ? shardProblem(file.data) : 'no version';
    if (problem) throw corrupt(path, new Error(problem));
    return { version: String(file.version), data: file.data };
  }

  async writeShard(network: string, key: string, data: ShardData, version: string | undefined): Promise<string> {
    const lockName = await this.lockName('shard', network, key);
    const release = this.held.has(lockName) ? undefined : await acquireSocketLock(lockName, this.lockTimeoutMs);
    try {
      // The lock makes this read-compare-rename one step for every writer on the host.
      const current = await this.readShard(network, key);
      if (current?.version !== version) {
        throw new ConflictError(`shard ${key} of network ${network} changed since it was read (expected version ${version ?? 'none'}, found ${current?.version ?? 'none'})`);
      }
      const next = (version === undefined ? 0 : Number(version)) + 1;
      const dir = this.shardDir(network);
      await this.ensureDir(dir);
      const content = JSON.stringify({ version: next, data } satisfies ShardFile);
      await writeAtomically(join(dir, `${key}.json`), content).catch((error) => {
        throw ioError('write', join(dir, `${key}.json`), error);
      });
      return String(next);
    } finally {
      await release?.();
    }
  }

  async listShards(network: string): Promise<string[]> {
    const dir = this.shardDir(network);
    try {
      const names = await readdir(dir);
      return names.filter((name) => name.endsWith('.json') && !name.startsWith('.')).map((name) => name.slice(0, -5));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError('list', dir, error);
    }
  }

  async lockShard(network: string, key: string, waitMs = this.lockTimeoutMs): Promise<ShardLock> {
    const name = await this.lockName('shard', network, key);
    const release = await acquireSocketLock(name, waitMs);
    this.held.add(name);
    return {
      release: async () => {
        this.held.delete(name);
        await release();
      },
    };
  }

  async readDefinition(network: string): Promise<NetworkDefinition | undefined> {
    return readJson<NetworkDefinition>(join(this.networkDir(network), 'definition.json'));
  }

  async createDefinition(network: string, definition: NetworkDefinition): Promise<NetworkDefinition> {
    const dir = this.networkDir(network);
    await this.ensureDir(dir);
    const content = JSON.stringify({ network, ...definition });
    const created = await writeAtomically(join(dir, 'definition.json'), content, { exclusive: true }).catch((error) => {
      throw ioError('write', join(dir, 'definition.json'), error);
    });
    if (created) return definition;
    return (await this.readDefinition(network)) ?? definition;
  }

  async ping(): Promise<void> {
    await this.ensureDir(this.dir);
    try {
      await syncDirectory(this.dir);
    } catch (error) {
      throw ioError('open', this.dir, error);
    }
  }

  private hintPath(network: string, containerId: string, ifName: string): { dir: string; name: string } {
    return { dir: join(this.networkDir(network), 'hints'), name: `${attachmentSlug(containerId, ifName)}.json` };
  }

  async read(network: string, containerId: string, ifName: string): Promise<string[] | undefined> {
    const { dir, name } = this.hintPath(network, containerId, ifName);
    const path = join(dir, name);
    let hint: { shards?: unknown } | undefined;
    try {
      hint = await readJson<{ shards?: unknown }>(path);
    } catch (error) {
      throw new HintUnreadableError(`attachment hint ${path} is damaged: ${(error as Error).message}`, { cause: error });
    }
    if (hint === undefined) return undefined;
    if (!Array.isArray(hint.shards) || !hint.shards.every((key) => typeof key === 'string')) {
      throw new HintUnreadableError(`attachment hint ${path} is damaged: no list of shards`);
    }
    return hint.shards;
  }

  async write(network: string, containerId: string, ifName: string, keys: string[]): Promise<void> {
    const { dir, name } = this.hintPath(network, containerId, ifName);
    await this.ensureDir(dir);
    const content = JSON.stringify({ containerId, ifName, shards: keys });
    await writeAtomically(join(dir, name), content).catch((error) => {
      throw ioError('write', join(dir, name), error);
    });
  }

  async remove(network: string, containerId: string, ifName: string): Promise<void> {
    const { dir, name } = this.hintPath(network, containerId, ifName);
    await unlink(join(dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw ioError('remove', join(dir, name), error);
    });
  }
}

import { join } from 'node:path';
import { CniCode, ConflictError, LeaseholdError } from '../errors.js';
import type { NetworkDefinition } from '../ipam/network.js';
import { type ShardData, shardProblem } from '../ipam/shard.js';
import { networkSlug } from '../store/names.js';
import { acquireSocketLock, lockNamer } from '../store/socket-lock.js';
import type { ShardFilter, ShardLock, ShardStore, Versioned } from '../store/types.js';
import type { KubeClient } from './client.js';
import { ShardLeases } from './lease.js';
import { cacheScope, readCached, writeCached } from './local-cache.js';

export const DEFAULT_NAMESPACE = 'leasehold';

/** How long a writer waits for a shard held by another writer before it fails with code 11. */
export const LOCK_WAIT_MS = 30_000;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  kind: 'leasehold.io/kind',
  network: 'leasehold.io/network',
  shard: 'leasehold.io/shard',
  /** "true" on a shard with an owner that has a StatefulSet pod key, written with its data. */
  sticky: 'leasehold.io/sticky',
} as const;

export const ANNOTATION_NETWORK = 'leasehold.io/network-name';

/** The fields of a ConfigMap that the store reads and writes. */
export interface ConfigMap {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
  immutable?: boolean;
}

export interface KubeStoreOptions {
  client: KubeClient;
  namespace: string;
  /** Identifies this writer in Leases: the node name. */
  holder: string;
  /** Node-local directory for caches; a cached copy only ever serves as the base of a compare-and-swap. */
  cacheDir: string;
  lockWaitMs?: number;
}

function hasStickyOwner(data: ShardData): boolean {
  return Object.values(data.owners).some((owner) => owner.sticky !== undefined);
}

/**
 * The cluster-wide store. Each shard is a ConfigMap named after its network and block, created
 * when first written. Writes are compare-and-swap on resourceVersion, under a Lease scoped to the
 * shard (and, between processes of one node, a host-wide lock). The API server rejects any write
 * based on a stale read, even one made under a valid Lease.
 */
export class KubeStore implements ShardStore {
  private readonly client: KubeClient;
  private readonly base: string;
  private readonly leases: ShardLeases;
  private namer: ((...parts: string[]) => string) | undefined;

  constructor(private readonly options: KubeStoreOptions) {
    this.client = options.client;
    this.base = `/api/v1/namespaces/${options.namespace}/configmaps`;
    this.leases = new ShardLeases({ client: options.client, namespace: options.namespace, holder: options.holder, cacheDir: options.cacheDir });
  }

  get requestCount(): number {
    return this.client.requests;
  }

  /** Returns the object name of a shard: network slug, then the shard key; always a DNS-1123 subdomain. */
  shardName(network: string, key: string): string {
    return `lh-${networkSlug(network)}-${key}`;
  }

  private definitionName(network: string): string {
    return `lh-${networkSlug(network)}-definition`;
  }

  private labels(network: string, kind: string, key?: string): Record<string, string> {
    const labels: Record<string, string> = { [LABELS.managedBy]: 'leasehold', [LABELS.kind]: kind, [LABELS.network]: networkSlug(network) };
    if (key) labels[LABELS.shard] = key;
    return labels;
  }

  private cachePath(network: string, name: string): string {
    return join(cacheScope(this.options.cacheDir, this.client.server, this.options.namespace), networkSlug(network), `${name}.json`);
  }

  private readCache<T>(network: string, name: string): Promise<T | undefined> {
    return readCached<T>(this.cachePath(network, name));
  }

  private writeCache(network: string, name: string, value: unknown): Promise<void> {
    return writeCached(this.cachePath(network, name), value);
  }

  private parseShard(configMap: ConfigMap): Versioned<ShardData> {
    const text = configMap.data?.shard;
    try {
      if (text === undefined) throw new Error('no "shard" key');
      const data: unknown = JSON.parse(text);
      const problem = shardProblem(data);
      if (problem) throw new Error(problem);
      return { version: configMap.metadata.resourceVersion ?? '', data: data as ShardData };
    } catch (error) {
      throw new LeaseholdError('STORE_DATA_INVALID', CniCode.STORE_DATA_INVALID, `invalid shard ConfigMap ${this.options.namespace}/${configMap.metadata.name}: ${(error as Error).message}; restore it from a backup, and do not delete it while pods hold its addresses`, { cause: error });
    }
  }

  async readShard(network: string, key: string): Promise<Versioned<ShardData> | undefined> {
    const name = this.shardName(network, key);
    const response = await this.client.request<ConfigMap>('GET', `${this.base}/${name}`, { expect: [404] });
    if (response.status === 404) return undefined;
    const shard = this.parseShard(response.body);
    await this.writeCache(network, key, shard);
    return shard;
  }

  /**
   * Returns the shard as this node last read or wrote it, or reads it when none is cached. It may be
   * stale; a write based on it fails the compare-and-swap and the caller reads again.
   */
  async readShardCached(network: string, key: string): Promise<Versioned<ShardData> | undefined> {
    const cached = await this.readCache<Versioned<ShardData>>(network, key);
    // A damaged copy is ignored and the shard is read from the API server instead.
    if (cached && typeof cached.version === 'string' && shardProblem(cached.data) === undefined) return cached;
    return this.readShard(network, key);
  }

  async writeShard(network: string, key: string, data: ShardData, version: string | undefined): Promise<string> {
    const name = this.shardName(network, key);
    const configMap: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        labels: { ...this.labels(network, 'shard', key), [LABELS.sticky]: String(hasStickyOwner(data)) },
        annotations: { [ANNOTATION_NETWORK]: network },
      },
      data: { shard: JSON.stringify(data) },
    };
    if (version !== undefined) configMap.metadata.resourceVersion = version;
    const response =
      version === undefined
        ? await this.client.request<ConfigMap>('POST', this.base, { body: configMap, expect: [409] })
        : await this.client.request<ConfigMap>('PUT', `${this.base}/${name}`, { body: configMap, expect: [409, 404] });
    if (response.status === 409 || response.status === 404) {
      throw new ConflictError(`shard ${name} changed since it was read (expected version ${version ?? 'none'})`);
    }
    const written = response.body.metadata.resourceVersion ?? '';
    await this.writeCache(network, key, { version: written, data });
    return written;
  }

  async listShards(network: string, filter?: ShardFilter): Promise<string[]> {
    // "!=false" also matches shards written before the label existed.
    const sticky = filter?.sticky ? `,${LABELS.sticky}!=false` : '';
    const selector = encodeURIComponent(`${LABELS.kind}=shard,${LABELS.network}=${networkSlug(network)}${sticky}`);
    const keys: string[] = [];
    let token = '';
    do {
      const query = `?labelSelector=${selector}&limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      // Metadata only: the keys are in the labels, and full shards can be hundreds of KiB each.
      const response = await this.client.request<{ items?: ConfigMap[] | null; metadata?: { continue?: string } }>('GET', `${this.base}${query}`, {
        accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      });
      for (const item of response.body.items ?? []) {
        const key = item.metadata.labels?.[LABELS.shard];
        if (key) keys.push(key);
      }
      token = response.body.metadata?.continue ?? '';
    } while (token);
    return keys;
  }

  /** Returns the namer of node-local locks, creating the lock key in the state directory once. */
  private async localLockNamer(): Promise<(...parts: string[]) => string> {
    this.namer ??= await lockNamer(this.options.cacheDir).catch((error: unknown) => {
      const reason = `failed to create the lock key in ${this.options.cacheDir}: ${(error as Error).message}`;
      const fix = "check that the host configuration's stateDir is writable by the plugin";
      throw new LeaseholdError('STORE_IO_FAILED', CniCode.IO_FAILURE, `${reason}; ${fix}`, {
        cause: error,
      });
    });
    return this.namer;
  }

  async lockShard(network: string, key: string, waitMs?: number): Promise<ShardLock> {
    const wait = waitMs ?? this.options.lockWaitMs ?? LOCK_WAIT_MS;
    const name = this.shardName(network, key);
    // Processes of one node queue on a host-wide lock first, so they do not race for the Lease.
    // The node name is part of the lock's name so that simulated nodes on one host stay apart.
    const namer = await this.localLockNamer();
    const releaseLocal = await acquireSocketLock(namer('kube', this.options.holder, this.options.namespace, name), wait);
    try {
      const releaseLease = await this.leases.hold(name, this.labels(network, 'lease', key), wait);
      return {
        release: async () => {
          try {
            await releaseLease();
          } finally {
            await releaseLocal();
          }
        },
      };
    } catch (error) {
      await releaseLocal();
      throw error;
    }
  }

  async readDefinition(network: string): Promise<NetworkDefinition | undefined> {
    const cached = await this.readCache<NetworkDefinition>(network, 'definition');
    if (cached) return cached;
    const name = this.definitionName(network);
    const response = await this.client.request<ConfigMap>('GET', `${this.base}/${name}`, { expect: [404] });
    if (response.status === 404) return undefined;
    return this.parseDefinition(network, response.body);
  }

  private async parseDefinition(network: string, configMap: ConfigMap): Promise<NetworkDefinition> {
    try {
      const definition = JSON.parse(configMap.data?.definition ?? '') as NetworkDefinition;
      definition.network = configMap.metadata.annotations?.[ANNOTATION_NETWORK] ?? network;
      // Recorded definitions are immutable, so this node may trust its copy from now on.
      await this.writeCache(network, 'definition', definition);
      return definition;
    } catch (error) {
      throw new LeaseholdError('STORE_DATA_INVALID', CniCode.STORE_DATA_INVALID, `invalid definition ConfigMap ${this.options.namespace}/${configMap.metadata.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  async createDefinition(network: string, definition: NetworkDefinition): Promise<NetworkDefinition> {
    const name = this.definitionName(network);
    const response = await this.client.request<ConfigMap>('POST', this.base, {
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: this.labels(network, 'definition'), annotations: { [ANNOTATION_NETWORK]: network } },
        data: { definition: JSON.stringify(definition) },
        immutable: true,
      },
      expect: [409],
    });
    if (response.status !== 409) {
      await this.writeCache(network, 'definition', definition);
      return definition;
    }
    const existing = await this.client.request<ConfigMap>('GET', `${this.base}/${name}`);
    return this.parseDefinition(network, existing.body);
  }

  async ping(): Promise<void> {
    // ADD fails without the node-local lock key, so STATUS checks that it can be created.
    await this.localLockNamer();
    await this.client.request('GET', `${this.base}?limit=1`);
  }
}

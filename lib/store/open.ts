import { DEFAULT_FILE_STORE_DIR, type HostConfig } from '../config/host.js';
import type { StoreConfig } from '../config/schema.js';
import type { ClusterApi } from '../plugin/cluster.js';
import { FileStore } from './file.js';
import type { AttachmentHints, ShardStore } from './types.js';

/** An opened store and where to keep attachment hints. */
export interface OpenedStore {
  store: ShardStore;
  hints: AttachmentHints;
  /** Whether writers on different nodes should start in different shards. */
  distributed: boolean;
  nodeName?: string;
  /** The cluster's API, for stores that live in it. */
  cluster?: ClusterApi;
  /** API requests sent so far, for stores that talk to a server. */
  requestCount?: () => number;
  close?: () => void;
}

/** Opens the store a configuration names. */
export async function openStore(config: StoreConfig, host: HostConfig, env: NodeJS.ProcessEnv): Promise<OpenedStore> {
  if (config.type === 'file') {
    const store = new FileStore(config.dir ?? DEFAULT_FILE_STORE_DIR);
    return { store, hints: store, distributed: false };
  }
  // Loaded on demand, so file-store calls never parse the Kubernetes code.
  const { openKubeStore } = await import('../kube/open.js');
  return openKubeStore(config, host, env);
}

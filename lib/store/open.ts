import { DEFAULT_FILE_STORE_DIR } from '../config/host.js';
import type { StoreConfig } from '../config/schema.js';
import { InvalidConfigError } from '../errors.js';
import { FileStore } from './file.js';
import type { AttachmentHints, ShardStore } from './types.js';

/** An opened store and where to keep attachment hints. */
export interface OpenedStore {
  store: ShardStore;
  hints: AttachmentHints;
  /** Whether writers on different nodes should start in different shards. */
  distributed: boolean;
}

/** Opens the store a configuration names. */
export async function openStore(config: StoreConfig): Promise<OpenedStore> {
  if (config.type === 'file') {
    const store = new FileStore(config.dir ?? DEFAULT_FILE_STORE_DIR);
    return { store, hints: store, distributed: false };
  }
  // TODO: the Kubernetes store is not built yet; configurations naming it are rejected.
  throw new InvalidConfigError([
    { path: 'ipam.store.type', message: 'store type "kubernetes" is not available in this build; use "file"' },
  ]);
}

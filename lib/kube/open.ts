import { hostname } from 'node:os';
import { DEFAULT_FILE_STORE_DIR, type HostConfig } from '../config/host.js';
import type { StoreConfig } from '../config/schema.js';
import { FileStore } from '../store/file.js';
import type { OpenedStore } from '../store/open.js';
import { KubeClient } from './client.js';
import { KubeCluster } from './cluster.js';
import { resolveConnection } from './connection.js';
import { DEFAULT_NAMESPACE, KubeStore } from './store.js';

type KubernetesStoreConfig = Extract<StoreConfig, { type: 'kubernetes' }>;

/** Opens the Kubernetes store; loaded only when a configuration names it. */
export function openKubeStore(config: KubernetesStoreConfig, host: HostConfig, env: NodeJS.ProcessEnv): OpenedStore {
  const client = new KubeClient(resolveConnection(config.kubeconfig, env));
  const nodeName = config.nodeName ?? host.nodeName ?? env.LEASEHOLD_NODE_NAME ?? env.NODE_NAME ?? hostname();
  const stateDir = host.stateDir ?? DEFAULT_FILE_STORE_DIR;
  const store = new KubeStore({
    client,
    namespace: config.namespace ?? DEFAULT_NAMESPACE,
    holder: nodeName,
    cacheDir: stateDir,
  });
  return {
    store,
    // Hints stay on the node: ADD retries and DEL for a container run where its ADD ran.
    hints: new FileStore(stateDir),
    distributed: true,
    nodeName,
    cluster: new KubeCluster({ client, cacheDir: stateDir, nodeName, serviceCIDRs: host.serviceCIDRs, clusterCIDRs: host.clusterCIDRs }),
    requestCount: () => client.requests,
    close: () => client.close(),
  };
}

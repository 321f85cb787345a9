import type { Log } from '../log.js';
import type { CniEnvironment } from '../cni/env.js';
import type { PluginConfig } from '../config/load.js';
import type { HostConfig } from '../config/host.js';
import type { Attachment, Pool } from '../pool/pool.js';
import type { ClusterApi } from './cluster.js';

/** Everything a command handler needs, prepared once per invocation. */
export interface CommandContext {
  env: CniEnvironment;
  config: PluginConfig;
  pool: Pool;
  log: Log;
  host: HostConfig;
  /** Present with the Kubernetes store. */
  cluster?: ClusterApi;
}

/** The attachment this invocation is about, with the pod fields Kubernetes runtimes pass. */
export function attachmentOf(env: CniEnvironment): Attachment {
  const attachment: Attachment = { containerId: env.containerId, ifName: env.ifName };
  const namespace = env.args.get('K8S_POD_NAMESPACE');
  const name = env.args.get('K8S_POD_NAME');
  const uid = env.args.get('K8S_POD_UID');
  if (namespace) attachment.podNamespace = namespace;
  if (name) attachment.podName = name;
  if (uid) attachment.podUid = uid;
  return attachment;
}

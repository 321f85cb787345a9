import type { KubeClient } from '../kube/client.js';
import type { PodState, StatefulSetState } from './decide.js';

/** Pods per LIST page: large enough for few requests, small enough to bound memory. */
export const POD_PAGE_LIMIT = 500;

interface ListPage<T> {
  items?: T[] | null;
  metadata?: { continue?: string };
}

/** Annotation of a mirror pod that contains the UID of its static pod. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

interface Pod {
  metadata: { namespace: string; name: string; uid: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

interface Node {
  metadata: { name: string };
  status?: { conditions?: Array<{ type: string; status: string }> | null };
}

interface StatefulSet {
  spec?: { replicas?: number; ordinals?: { start?: number } };
}

/** Compact pod state by `namespace/name`: a few short strings per pod, not the whole object. */
export type PodIndex = Map<string, PodState>;

/** Node name to whether its Ready condition is True. */
export type NodeIndex = Map<string, boolean>;

/**
 * Calls `visit` with every item of a collection, one page at a time, so that at most one page
 * is held in memory.
 */
export async function forEachItem<T>(
  client: KubeClient,
  path: string,
  limit: number,
  visit: (item: T) => void | Promise<void>,
): Promise<void> {
  const separator = path.includes('?') ? '&' : '?';
  let token = '';
  do {
    const query = `${separator}limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const page = await client.request<ListPage<T>>('GET', `${path}${query}`);
    for (const item of page.body.items ?? []) await visit(item);
    token = page.body.metadata?.continue ?? '';
  } while (token);
}

function podState(pod: Pod): PodState {
  const state: PodState = {
    uid: pod.metadata.uid,
    phase: pod.status?.phase ?? '',
    nodeName: pod.spec?.nodeName ?? '',
  };
  const mirrorOf = pod.metadata.annotations?.[MIRROR_ANNOTATION];
  if (mirrorOf) state.mirrorOf = mirrorOf;
  return state;
}

/**
 * Lists every pod of the cluster into a compact index.
 *
 * TODO: a watch would avoid the full LIST each run; until then memory and time grow with the
 * cluster's pod count.
 */
export async function listPods(client: KubeClient): Promise<PodIndex> {
  const index: PodIndex = new Map();
  await forEachItem<Pod>(client, '/api/v1/pods', POD_PAGE_LIMIT, (pod) => {
    index.set(`${pod.metadata.namespace}/${pod.metadata.name}`, podState(pod));
  });
  return index;
}

/** Lists every node with its readiness. */
export async function listNodes(client: KubeClient): Promise<NodeIndex> {
  const index: NodeIndex = new Map();
  await forEachItem<Node>(client, '/api/v1/nodes', POD_PAGE_LIMIT, (node) => {
    const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
    index.set(node.metadata.name, ready?.status === 'True');
  });
  return index;
}

/** Splits `namespace/name`; undefined when either part is missing. */
export function splitKey(key: string): { namespace: string; name: string } | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Reads one pod afresh; undefined when it does not exist. */
export async function getPod(client: KubeClient, key: string): Promise<PodState | undefined> {
  const parts = splitKey(key);
  if (!parts) return undefined;
  const path = `/api/v1/namespaces/${encodeURIComponent(parts.namespace)}/pods/${encodeURIComponent(parts.name)}`;
  const response = await client.request<Pod>('GET', path, { expect: [404] });
  return response.status === 404 ? undefined : podState(response.body);
}

/** Reads one StatefulSet; undefined when it does not exist. */
export async function getStatefulSet(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<StatefulSetState | undefined> {
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/statefulsets/${encodeURIComponent(name)}`;
  const response = await client.request<StatefulSet>('GET', path, { expect: [404] });
  if (response.status === 404) return undefined;
  const spec = response.body.spec ?? {};
  // The API server defaults replicas to 1; a missing ordinals block starts at 0.
  return { replicas: spec.replicas ?? 1, ordinalsStart: spec.ordinals?.start ?? 0 };
}

import { join } from 'node:path';
import { NodePodCIDRsMissingError } from '../errors.js';
import type { ClusterNetworks, ClusterRange } from '../ipam/cluster.js';
import type { ClusterApi, PodEvent, PodIdentity } from '../plugin/cluster.js';
import { shortHash } from '../store/names.js';
import type { KubeClient } from './client.js';
import { readCached, writeCached } from './local-cache.js';

/**
 * How long a node trusts what it read of the cluster's ranges. Service ranges and node pod CIDRs
 * change rarely, and reading every Node object on every ADD would load the API server.
 */
export const CLUSTER_CACHE_SECONDS = 600;

/** Time limit for recording an Event, so that a slow API server does not delay the failed ADD's result. */
const EVENT_TIMEOUT_MS = 2_000;

interface Cached<T> {
  readAt: number;
  value: T;
}

interface NodeObject {
  metadata: { name: string };
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

interface List<T> {
  items?: T[] | null;
  metadata?: { continue?: string };
}

export interface KubeClusterOptions {
  client: KubeClient;
  cacheDir: string;
  nodeName: string;
  /** Configured service ranges, for API servers without ServiceCIDR objects. */
  serviceCIDRs?: string[];
  /** Configured cluster pod ranges; when set, Node objects are not read. */
  clusterCIDRs?: string[];
}

function podCIDRsOf(node: NodeObject): string[] {
  const cidrs = node.spec?.podCIDRs ?? [];
  if (cidrs.length > 0) return cidrs;
  return node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isRangeList(value: unknown): value is ClusterRange[] {
  return Array.isArray(value) && value.every((item: Partial<ClusterRange> | null) => typeof item?.cidr === 'string' && typeof item.source === 'string');
}

function isClusterNetworks(value: unknown): value is ClusterNetworks {
  const networks = value as Partial<ClusterNetworks> | null;
  return typeof networks === 'object' && networks !== null && isRangeList(networks.services) && isRangeList(networks.pods);
}

/** Cluster API access beside the store: service ranges, nodes, pods and Events. */
export class KubeCluster implements ClusterApi {
  private readonly client: KubeClient;
  private readonly dir: string;

  constructor(private readonly options: KubeClusterOptions) {
    this.client = options.client;
    this.dir = join(options.cacheDir, 'kube-cache', shortHash(this.client.server, 16), 'cluster');
  }

  /**
   * Returns a fresh node-local copy that `isValid` accepts, or reads the value and stores it when
   * `keep` accepts it. A copy of another shape, from a damaged file or another version, is read again.
   */
  private async cached<T>(name: string, read: () => Promise<T>, isValid: (value: unknown) => value is T, keep: (value: T) => boolean = () => true): Promise<T> {
    const path = join(this.dir, `${name}.json`);
    const entry = await readCached<Cached<unknown>>(path);
    const age = entry ? Date.now() - entry.readAt : Infinity;
    if (entry && age >= 0 && age < CLUSTER_CACHE_SECONDS * 1000 && isValid(entry.value)) return entry.value;
    const value = await read();
    if (keep(value)) await writeCached(path, { readAt: Date.now(), value });
    return value;
  }

  /** Returns the service ranges and every node's pod CIDRs, from a node-local copy when it is fresh. */
  networks(): Promise<ClusterNetworks> {
    return this.cached('networks', async () => ({ services: await this.serviceRanges(), pods: await this.podRanges() }), isClusterNetworks);
  }

  private async serviceRanges(): Promise<ClusterRange[]> {
    const configured = (this.options.serviceCIDRs ?? []).map((cidr) => ({ cidr, source: 'serviceCIDRs in the host configuration' }));
    const response = await this.client.request<List<{ metadata: { name: string }; spec?: { cidrs?: string[] } }>>(
      'GET',
      '/apis/networking.k8s.io/v1/servicecidrs?resourceVersion=0',
      { expect: [404] },
    );
    if (response.status === 404) return configured;
    const fromApi = (response.body.items ?? []).flatMap((item) =>
      (item.spec?.cidrs ?? []).map((cidr) => ({ cidr, source: `ServiceCIDR "${item.metadata.name}"` })),
    );
    return [...fromApi, ...configured];
  }

  private async podRanges(): Promise<ClusterRange[]> {
    if (this.options.clusterCIDRs) {
      return this.options.clusterCIDRs.map((cidr) => ({ cidr, source: 'clusterCIDRs in the host configuration' }));
    }
    const ranges: ClusterRange[] = [];
    let token = '';
    do {
      const query = `?limit=500${token ? `&continue=${encodeURIComponent(token)}` : '&resourceVersion=0'}`;
      const response = await this.client.request<List<NodeObject>>('GET', `/api/v1/nodes${query}`);
      for (const node of response.body.items ?? []) {
        for (const cidr of podCIDRsOf(node)) ranges.push({ cidr, source: `spec.podCIDRs of node ${node.metadata.name}` });
      }
      token = response.body.metadata?.continue ?? '';
    } while (token);
    return ranges;
  }

  /** Returns the pod CIDRs the controller-manager assigned to a node; empty when none are assigned yet. */
  nodePodCIDRs(node: string): Promise<string[]> {
    const read = async (): Promise<string[]> => {
      const response = await this.client.request<NodeObject>('GET', `/api/v1/nodes/${encodeURIComponent(node)}`, { expect: [404] });
      if (response.status === 404) {
        throw new NodePodCIDRsMissingError(`node "${node}" not found in the API server; set nodeName in the host configuration to this node's name`);
      }
      return podCIDRsOf(response.body);
    };
    // An empty list is not kept: the runtime retries the ADD until the controller-manager assigns
    // the CIDRs, and each retry must read them again.
    return this.cached(`node-${shortHash(node, 16)}`, read, isStringList, (cidrs) => cidrs.length > 0);
  }

  /** Returns the pod's UID and its controlling StatefulSet, if any; undefined when the pod is not found. */
  async pod(namespace: string, name: string): Promise<PodIdentity | undefined> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
    const response = await this.client.request<{
      metadata: { uid?: string; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> };
    }>('GET', path, { expect: [404] });
    if (response.status === 404) return undefined;
    const owner = response.body.metadata.ownerReferences?.find((reference) => reference.controller && reference.kind === 'StatefulSet');
    return { uid: response.body.metadata.uid ?? '', ...(owner ? { statefulSet: owner.name } : {}) };
  }

  /** Records a Warning Event on the pod. A failure or timeout is returned as the result, so callers need no catch. */
  async recordEvent(event: PodEvent): Promise<Error | undefined> {
    const now = new Date().toISOString();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${event.podName}.`, namespace: event.podNamespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: event.podNamespace, name: event.podName, ...(event.podUid ? { uid: event.podUid } : {}) },
      reason: event.reason,
      message: event.message.slice(0, 1024),
      type: 'Warning',
      source: { component: 'leasehold', host: this.options.nodeName },
      reportingComponent: 'leasehold.io/ipam',
      reportingInstance: this.options.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const path = `/api/v1/namespaces/${encodeURIComponent(event.podNamespace)}/events`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new Error(`timed out after ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS);
    });
    const sent = this.client.request('POST', path, { body }).then(
      () => undefined,
      (error: Error) => error,
    );
    try {
      return await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

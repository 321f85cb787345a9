import type { HostConfig } from '../config/host.js';
import type { PluginConfig } from '../config/load.js';
import { resolveRangeSets } from '../config/ranges.js';
import { type ConfigProblem, InvalidConfigError, type LeaseholdError, NodePodCIDRsMissingError } from '../errors.js';
import { type ClusterNetworks, clusterOverlaps } from '../ipam/cluster.js';
import type { NetworkSpec } from '../ipam/network.js';
import type { Attachment } from '../pool/pool.js';

/** A pod as the plugin needs it: its UID and the StatefulSet that controls it, if any. */
export interface PodIdentity {
  uid: string;
  statefulSet?: string;
}

/** A Warning Event about one pod. */
export interface PodEvent {
  podNamespace: string;
  podName: string;
  podUid?: string;
  reason: string;
  message: string;
}

/** Cluster API access beside the store; only the Kubernetes store provides it. */
export interface ClusterApi {
  networks(): Promise<ClusterNetworks>;
  nodePodCIDRs(node: string): Promise<string[]>;
  pod(namespace: string, name: string): Promise<PodIdentity | undefined>;
  /** Best effort: returns the failure instead of throwing it. */
  recordEvent(event: PodEvent): Promise<Error | undefined>;
}

/** Cluster ranges from the host configuration alone, for stores without an API server. */
export function configuredNetworks(host: HostConfig): ClusterNetworks {
  return {
    services: (host.serviceCIDRs ?? []).map((cidr) => ({ cidr, source: 'serviceCIDRs in the host configuration' })),
    pods: (host.clusterCIDRs ?? []).map((cidr) => ({ cidr, source: 'clusterCIDRs in the host configuration' })),
  };
}

/**
 * Rejects (code 7) a network whose subnets overlap the cluster's service range or pod CIDRs,
 * unless it sets ipam.allowClusterOverlap. Reads come from a node-local copy, so the check does
 * not cost an API request per ADD.
 */
export async function checkClusterOverlap(config: PluginConfig, cluster: ClusterApi | undefined, host: HostConfig): Promise<void> {
  if (config.allowClusterOverlap) return;
  const networks = cluster ? await cluster.networks() : configuredNetworks(host);
  const problems = clusterOverlaps(config.spec, networks, { ignorePods: config.nodeLocal });
  if (problems.length > 0) throw new InvalidConfigError(problems, 'CLUSTER_OVERLAP');
}

/**
 * Builds the network of ipam.rangesFrom "nodePodCIDRs": one range set per pod CIDR of this node. Its
 * stored name carries the CIDRs, because each node's pool is its own address space and a node
 * that comes back with other CIDRs must not meet its old definition.
 */
export async function nodeLocalSpec(config: PluginConfig, cluster: ClusterApi | undefined, node: string | undefined): Promise<NetworkSpec> {
  if (!cluster || !node) {
    throw new InvalidConfigError([{ path: 'ipam.rangesFrom', message: '"nodePodCIDRs" needs the kubernetes store to read the node: set ipam.store or the host configuration\'s store to {"type": "kubernetes"}' }]);
  }
  const cidrs = await cluster.nodePodCIDRs(node);
  if (cidrs.length === 0) {
    throw new NodePodCIDRsMissingError(`node "${node}" has no spec.podCIDRs yet; the controller-manager assigns them when it runs with --allocate-node-cidrs; retry`);
  }
  const problems: ConfigProblem[] = [];
  const ipam = { ranges: cidrs.map((subnet) => [{ subnet }]), exclude: config.netconf.ipam.exclude };
  const rangeSets = resolveRangeSets(ipam, problems);
  if (problems.length > 0) {
    throw new InvalidConfigError(problems.map((problem) => ({ ...problem, message: `${problem.message} (from spec.podCIDRs ${cidrs.join(', ')} of node "${node}")` })));
  }
  return { name: `${config.spec.name}@${cidrs.join(',')}`, rangeSets };
}

/**
 * Returns the key that ties an address to a StatefulSet pod: `namespace/name`. Returns undefined
 * when the network does not opt in, no StatefulSet controls the pod, or the pod's UID differs
 * from the one the runtime passed.
 */
export async function stickyKey(config: PluginConfig, cluster: ClusterApi | undefined, attachment: Attachment): Promise<string | undefined> {
  if (!config.stickyStatefulSets) return undefined;
  if (!cluster) {
    throw new InvalidConfigError([{ path: 'ipam.stickyStatefulSets', message: 'needs the kubernetes store (ipam.store or the host configuration) to read the pod; remove it or switch stores' }]);
  }
  const { podNamespace, podName } = attachment;
  if (!podNamespace || !podName) return undefined;
  const pod = await cluster.pod(podNamespace, podName);
  // A runtime still setting up a deleted pod finds its successor under the name, and the kept
  // address belongs to that successor.
  if (attachment.podUid && pod?.uid && pod.uid !== attachment.podUid) return undefined;
  return pod?.statefulSet ? `${podNamespace}/${podName}` : undefined;
}

const EVENT_REASONS: Record<string, string> = {
  POOL_EXHAUSTED: 'AddressPoolExhausted',
  ADDRESS_IN_USE: 'RequestedAddressInUse',
  ADDRESS_NOT_AVAILABLE: 'RequestedAddressNotAvailable',
  CLUSTER_OVERLAP: 'NetworkOverlapsCluster',
};

/** Returns the Event reason for a failed ADD that the pod's owner can act on, or undefined. */
export function eventReason(error: LeaseholdError): string | undefined {
  return EVENT_REASONS[error.code];
}

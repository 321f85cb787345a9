import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import type { KubeClient } from '../../../lib/kube/client.js';

/** The pod annotation that selects additional networks (multi-network specification, v1). */
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

/** The pod annotation in which the runtime reports the attached networks. */
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

const CRD_FIXTURE = resolve('test/e2e/fixtures/network-attachment-definition-crd.yaml');
const CRD_NAME = 'network-attachment-definitions.k8s.cni.cncf.io';
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const CRD_ESTABLISHED_TIMEOUT_MS = 30_000;

/** One entry of the network-status annotation. */
export interface NetworkStatus {
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  default?: boolean;
}

/** A pod created through the API, with the identity a runtime passes in CNI_ARGS. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

interface ObjectMeta {
  uid: string;
  resourceVersion: string;
  annotations?: Record<string, string>;
}

interface Condition {
  type: string;
  status: string;
}

/** Creates the NetworkAttachmentDefinition CRD and waits until the API server serves it. */
export async function applyNadCrd(client: KubeClient): Promise<void> {
  const crd = load(readFileSync(CRD_FIXTURE, 'utf8'));
  await client.request('POST', CRD_PATH, { body: crd, expect: [409] });

  const deadline = Date.now() + CRD_ESTABLISHED_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const { body } = await client.request<{ status?: { conditions?: Condition[] } }>(
      'GET',
      `${CRD_PATH}/${CRD_NAME}`,
    );
    const conditions = body.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`CRD ${CRD_NAME} was not established within ${CRD_ESTABLISHED_TIMEOUT_MS} ms`);
}

/** Returns true when the API server serves NetworkAttachmentDefinitions. */
export async function hasNadCrd(client: KubeClient): Promise<boolean> {
  const response = await client.request('GET', '/apis/k8s.cni.cncf.io/v1', { expect: [404] });
  return response.status !== 404;
}

/** Applies the NetworkAttachmentDefinition CRD unless the cluster already serves it, as with Multus installed. */
export async function ensureNadCrd(client: KubeClient): Promise<void> {
  if (!(await hasNadCrd(client))) await applyNadCrd(client);
}

function nadPath(namespace: string, name = ''): string {
  const base = `/apis/k8s.cni.cncf.io/v1/namespaces/${namespace}/network-attachment-definitions`;
  return name ? `${base}/${name}` : base;
}

/** Creates a NetworkAttachmentDefinition whose `spec.config` is the given CNI configuration. */
export async function createNad(
  client: KubeClient,
  namespace: string,
  name: string,
  config: Record<string, unknown>,
): Promise<void> {
  const body = {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace },
    spec: { config: JSON.stringify(config) },
  };
  await client.request('POST', nadPath(namespace), { body });
}

/** Creates any object of examples/nad/ as given, for a check that the CRD accepts it. */
export async function createNadObject(client: KubeClient, object: unknown): Promise<void> {
  const namespace = (object as { metadata?: { namespace?: string } }).metadata?.namespace;
  await client.request('POST', nadPath(namespace ?? 'default'), { body: object, expect: [409] });
}

/** Reads the CNI configuration of a NetworkAttachmentDefinition. */
export async function readNadConfig(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Record<string, unknown>> {
  const { body } = await client.request<{ spec?: { config?: string } }>(
    'GET',
    nadPath(namespace, name),
  );
  return JSON.parse(body.spec?.config ?? '{}') as Record<string, unknown>;
}

/**
 * Creates a pod with the networks annotation. Nothing schedules or runs it: it stays Pending,
 * which is all a CNI call needs. The namespace's `default` ServiceAccount is created first
 * because no controller creates it here, and admission rejects a pod without it.
 */
export async function createPod(
  client: KubeClient,
  namespace: string,
  name: string,
  networks: string,
): Promise<PodRef> {
  const account = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } };
  await client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    body: account,
    expect: [409],
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, annotations: { [NETWORKS_ANNOTATION]: networks } },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }],
    },
  };
  const { body } = await client.request<{ metadata: ObjectMeta }>(
    'POST',
    `/api/v1/namespaces/${namespace}/pods`,
    { body: pod },
  );
  return { namespace, name, uid: body.metadata.uid };
}

/**
 * Deletes a pod at once. A pod that no node runs needs no grace period, so the API server removes
 * it before it responds.
 */
export async function deletePod(client: KubeClient, pod: PodRef): Promise<void> {
  const path = `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`;
  await client.request('DELETE', path, { body: { gracePeriodSeconds: 0 } });
}

/** Reads a pod's annotations. */
export async function podAnnotations(
  client: KubeClient,
  pod: PodRef,
): Promise<Record<string, string>> {
  const { body } = await client.request<{ metadata: ObjectMeta }>(
    'GET',
    `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
  );
  return body.metadata.annotations ?? {};
}

/** Parses the network-status annotation; an absent annotation is an empty list. */
export async function networkStatus(client: KubeClient, pod: PodRef): Promise<NetworkStatus[]> {
  const text = (await podAnnotations(client, pod))[NETWORK_STATUS_ANNOTATION];
  return text ? (JSON.parse(text) as NetworkStatus[]) : [];
}

/**
 * Writes the network-status annotation through the pod's status subresource, as Multus does,
 * and retries when another writer changed the pod in between.
 */
export async function writeNetworkStatus(
  client: KubeClient,
  pod: PodRef,
  statuses: NetworkStatus[],
): Promise<void> {
  const path = `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { body } = await client.request<{ metadata: ObjectMeta }>('GET', path);
    body.metadata.annotations = {
      ...body.metadata.annotations,
      [NETWORK_STATUS_ANNOTATION]: JSON.stringify(statuses),
    };
    const { status } = await client.request('PUT', `${path}/status`, { body, expect: [409] });
    if (status !== 409) return;
  }
  throw new Error(`network-status of pod ${pod.namespace}/${pod.name} kept conflicting`);
}

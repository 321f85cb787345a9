import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { load } from 'js-yaml';
import type { KubeClient } from '../../../lib/kube/client.js';

/** The built reconciler. */
export const RECONCILER_BINARY = resolve('dist/bin/leasehold-reconcile');

interface Meta {
  metadata: { name: string; uid: string; resourceVersion: string };
  status?: Record<string, unknown>;
}

/** Creates a namespace and its `default` ServiceAccount, which no controller creates here. */
export async function createPodNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    expect: [409],
  });
  await client.request('POST', `/api/v1/namespaces/${name}/serviceaccounts`, {
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
    expect: [409],
  });
}

/** Creates a pod bound to `node` and sets its phase through the status subresource; returns its UID. */
export async function createPod(
  client: KubeClient,
  namespace: string,
  name: string,
  node: string,
  phase = 'Running',
  owner?: { kind: string; apiVersion: string; name: string; uid: string },
  annotations: Record<string, string> = {},
): Promise<string> {
  const ownerReferences = owner ? [{ ...owner, controller: true }] : [];
  const body = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ownerReferences, annotations },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
  };
  const created = await client.request<Meta>('POST', `/api/v1/namespaces/${namespace}/pods`, {
    body,
  });
  await setPodPhase(client, namespace, name, phase);
  return created.body.metadata.uid;
}

/** Sets a pod's phase, as a kubelet would. */
export async function setPodPhase(
  client: KubeClient,
  namespace: string,
  name: string,
  phase: string,
): Promise<void> {
  const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
  const pod = await client.request<Meta>('GET', path);
  await client.request('PUT', `${path}/status`, {
    body: { ...pod.body, status: { ...pod.body.status, phase } },
  });
}

/** Deletes a pod at once, as after a kubelet confirmed it; no CNI DEL happens. */
export async function deletePod(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  await client.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
    body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
    expect: [404],
  });
}

/** Creates a Node (idempotent) with the given pod CIDRs and sets its Ready condition. */
export async function createNode(
  client: KubeClient,
  name: string,
  ready: boolean,
  podCIDRs: string[] = [],
): Promise<void> {
  const spec = podCIDRs.length > 0 ? { podCIDR: podCIDRs[0], podCIDRs } : {};
  await client.request('POST', '/api/v1/nodes', {
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec },
    expect: [409],
  });
  const node = await client.request<Meta>('GET', `/api/v1/nodes/${name}`);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = {
    type: 'Ready',
    status: ready ? 'True' : 'False',
    reason: ready ? 'KubeletReady' : 'NodeStatusUnknown',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  };
  await client.request('PUT', `/api/v1/nodes/${name}/status`, {
    body: { ...node.body, status: { ...node.body.status, conditions: [condition] } },
  });
}

export async function deleteNode(client: KubeClient, name: string): Promise<void> {
  await client.request('DELETE', `/api/v1/nodes/${name}`, { expect: [404] });
}

/** Creates or scales a StatefulSet; nothing here runs its pods. */
export async function applyStatefulSet(
  client: KubeClient,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  const base = `/apis/apps/v1/namespaces/${namespace}/statefulsets`;
  const existing = await client.request<Meta & { spec: Record<string, unknown> }>(
    'GET',
    `${base}/${name}`,
    { expect: [404] },
  );
  if (existing.status === 200) {
    await client.request('PUT', `${base}/${name}`, {
      body: { ...existing.body, spec: { ...existing.body.spec, replicas } },
    });
    return;
  }
  const labels = { app: name };
  const spec = {
    replicas,
    serviceName: name,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
    },
  };
  await client.request('POST', base, {
    body: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name }, spec },
  });
}

/** Output of one reconciler process: its exit status, its JSON log lines and the run summary. */
export interface ReconcilerExit {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  summary: Record<string, unknown> | undefined;
  stderr: string;
}

/** Runs the built reconciler once with the given flags. */
export function runReconcilerProcess(kubeconfig: string, flags: string[]): Promise<ReconcilerExit> {
  const child = spawn(RECONCILER_BINARY, ['--kubeconfig', kubeconfig, '--once', ...flags], {
    env: { PATH: process.env.PATH },
  });
  return reconcilerExit(child);
}

/** Collects a reconciler process's JSON log lines, run summary and exit status. */
export function reconcilerExit(child: ChildProcessWithoutNullStreams): Promise<ReconcilerExit> {
  return new Promise((done) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      done({
        code,
        lines,
        summary: lines.find((line) => line.msg === 'reconcile run finished'),
        stderr,
      });
    });
  });
}

/** Returns the resourceVersion of every ConfigMap and Lease of a namespace, by kind and name. */
export async function versionsIn(
  client: KubeClient,
  namespace: string,
): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const [kind, path] of [
    ['configmap', `/api/v1/namespaces/${namespace}/configmaps`],
    ['lease', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`],
  ] as const) {
    const list = await client.request<{ items: Meta[] }>('GET', path);
    for (const item of list.body.items)
      versions[`${kind}/${item.metadata.name}`] = item.metadata.resourceVersion;
  }
  return versions;
}

/** Creates a shard Lease with the given holder and last renewal. */
export async function createLease(
  client: KubeClient,
  namespace: string,
  name: string,
  holder: string | undefined,
  renewedAt: Date,
  durationSeconds: number,
): Promise<void> {
  const time = renewedAt.toISOString().replace(/Z$/, '000Z');
  const spec = {
    ...(holder ? { holderIdentity: holder } : {}),
    leaseDurationSeconds: durationSeconds,
    renewTime: time,
    acquireTime: time,
  };
  await client.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, labels: { 'leasehold.io/kind': 'lease' } },
      spec,
    },
  });
}

interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef?: { name: string };
  subjects?: Array<{ namespace?: string }>;
}

const MANIFEST_PATHS: Record<string, string> = {
  ServiceAccount: '/api/v1/namespaces/NS/serviceaccounts',
  Role: '/apis/rbac.authorization.k8s.io/v1/namespaces/NS/roles',
  RoleBinding: '/apis/rbac.authorization.k8s.io/v1/namespaces/NS/rolebindings',
  ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
};

/**
 * Creates the objects of manifest files with the namespace replaced by `namespace` and
 * cluster-wide names suffixed, so one cluster can contain several copies.
 */
export async function applyManifests(
  client: KubeClient,
  files: string[],
  namespace: string,
  suffix: string,
): Promise<void> {
  for (const file of files) {
    const manifest = load(readFileSync(file, 'utf8')) as Manifest;
    const path = MANIFEST_PATHS[manifest.kind];
    if (!path) throw new Error(`${file}: no API path for kind ${manifest.kind}`);
    if (manifest.metadata.namespace) manifest.metadata.namespace = namespace;
    if (manifest.kind.startsWith('Cluster')) manifest.metadata.name += `-${suffix}`;
    if (manifest.kind === 'ClusterRoleBinding' && manifest.roleRef)
      manifest.roleRef.name += `-${suffix}`;
    for (const subject of manifest.subjects ?? []) subject.namespace = namespace;
    await client.request('POST', path.replace('NS', namespace), { body: manifest, expect: [409] });
  }
}

/** Requests a token for a ServiceAccount from the TokenRequest API. */
export async function serviceAccountToken(
  client: KubeClient,
  namespace: string,
  account: string,
): Promise<string> {
  const response = await client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  return response.body.status.token;
}

/** Writes a kubeconfig that authenticates as a ServiceAccount with a token from the TokenRequest API. */
export async function serviceAccountKubeconfig(
  client: KubeClient,
  adminKubeconfig: string,
  namespace: string,
  account: string,
  path: string,
): Promise<void> {
  const token = await serviceAccountToken(client, namespace, account);
  const config = load(readFileSync(adminKubeconfig, 'utf8')) as {
    users: Array<{ name: string; user: Record<string, unknown> }>;
  };
  for (const entry of config.users) entry.user = { token };
  writeFileSync(path, JSON.stringify(config));
}

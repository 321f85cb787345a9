import type { KubeClient } from '../kube/client.js';
import { type Lease, isExpired } from '../kube/lease.js';
import { LABELS } from '../kube/store.js';
import { forEachItem } from './cluster.js';

const LEASE_PAGE_LIMIT = 500;

/**
 * Deletes an object only if it is still at `resourceVersion`, so an object written since the
 * scan is kept. Returns true when it was deleted.
 */
export async function deleteIfUnchanged(
  client: KubeClient,
  path: string,
  resourceVersion: string,
): Promise<boolean> {
  const response = await client.request('DELETE', path, {
    body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion } },
    expect: [404, 409],
  });
  return response.status >= 200 && response.status < 300;
}

/** Deletes an empty shard ConfigMap unless it changed since it was listed. */
export function deleteEmptyShard(
  client: KubeClient,
  namespace: string,
  name: string,
  resourceVersion: string,
): Promise<boolean> {
  return deleteIfUnchanged(
    client,
    `/api/v1/namespaces/${namespace}/configmaps/${name}`,
    resourceVersion,
  );
}

/**
 * Deletes the free shard Leases: no holder, or not renewed within their duration. A
 * Lease renewed after the LIST has a new resourceVersion and is kept. Returns the names
 * removed, or the names that would be removed when `dryRun` is set.
 */
export async function removeUnheldLeases(
  client: KubeClient,
  namespace: string,
  now: number,
  dryRun: boolean,
): Promise<string[]> {
  const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const unheld: Lease[] = [];
  await forEachItem<Lease>(
    client,
    `${base}?labelSelector=${encodeURIComponent(`${LABELS.kind}=lease`)}`,
    LEASE_PAGE_LIMIT,
    (lease) => {
      if (isExpired(lease, now)) unheld.push(lease);
    },
  );
  if (dryRun) return unheld.map((lease) => lease.metadata.name);
  const removed: string[] = [];
  for (const lease of unheld) {
    const name = lease.metadata.name;
    if (await deleteIfUnchanged(client, `${base}/${name}`, lease.metadata.resourceVersion ?? ''))
      removed.push(name);
  }
  return removed;
}

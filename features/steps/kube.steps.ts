import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import { newShard, shardKey, withReservation } from '../../lib/ipam/shard.js';
import { parsePrefix } from '../../lib/ipam/address.js';
import { KubeStore } from '../../lib/kube/store.js';
import { MAX_SHARD_BYTES } from '../../lib/pool/reserve.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { FEATURE_NAMESPACE, kubeClient } from '../support/kube.js';
import type { PluginWorld } from '../support/world.js';

function inspector(world: PluginWorld): KubeStore {
  return new KubeStore({ client: kubeClient().client, namespace: FEATURE_NAMESPACE, holder: 'feature-inspector', cacheDir: join(world.dir, 'inspector') });
}

When('node {string} calls {word} for container {string} on {string}', function (this: PluginWorld, node: string, command: string, container: string, network: string) {
  this.node = node;
  this.callFor(command, container, network);
});

Given('the API server cannot be reached from node {string}', function (this: PluginWorld, node: string) {
  this.node = node;
  const path = this.hostConfig();
  const kubeconfig = join(this.dir, 'unreachable.kubeconfig');
  // Port 9 on loopback: nothing listens there, so every request is refused at once.
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'dead',
    contexts: [{ name: 'dead', context: { cluster: 'dead', user: 'dead' } }],
    clusters: [{ name: 'dead', cluster: { server: 'https://127.0.0.1:9', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'dead', user: { token: 'none' } }],
  }));
  writeFileSync(path, JSON.stringify({ store: { type: 'kubernetes', kubeconfig, namespace: FEATURE_NAMESPACE }, nodeName: node, stateDir: join(this.dir, node) }));
});

Then('the shards of {string} are consistent and hold {int} addresses', async function (this: PluginWorld, network: string, count: number) {
  const report = await checkConsistency(inspector(this), this.storedName(network));
  assert.ok(isConsistent(report), JSON.stringify(report));
  assert.equal(report.allocations.length, count);
});

Then('the addresses of {string} are spread over {int} shards', async function (this: PluginWorld, network: string, count: number) {
  const report = await checkConsistency(inspector(this), this.storedName(network));
  assert.equal(new Set(report.allocations.map((entry) => entry.shard)).size, count);
});

Then('every shard ConfigMap of {string} is labelled with its network and shard', async function (this: PluginWorld, network: string) {
  const { client } = kubeClient();
  const response = await client.request<{ items: Array<{ metadata: { name: string; labels: Record<string, string> } }> }>('GET', `/api/v1/namespaces/${FEATURE_NAMESPACE}/configmaps?labelSelector=leasehold.io%2Fkind%3Dshard`);
  const store = inspector(this);
  const keys = await store.listShards(this.storedName(network));
  assert.ok(keys.length > 0);
  for (const key of keys) {
    const name = store.shardName(this.storedName(network), key);
    const item = response.body.items.find((entry) => entry.metadata.name === name);
    assert.ok(item, `no ConfigMap ${name}`);
    assert.match(name, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    assert.equal(item.metadata.labels['leasehold.io/shard'], key);
  }
});

Given('the first shard of {string} is filled with owner records up to its size limit', async function (this: PluginWorld, network: string) {
  const ranges = this.networks.get(network)?.ranges as Array<Array<{ subnet: string }>>;
  const prefix = parsePrefix(ranges[0]?.[0]?.subnet ?? '');
  assert.ok(prefix);
  assert.equal(prefix.family, 4);
  const place = { family: 4 as const, subnetFirst: prefix.address, prefixLength: prefix.length, block: 0n };
  const stored = this.storedName(network);
  let shard = newShard(stored, place);
  // Long records first, then short ones, until not even a short record of the plugin fits.
  const records = [
    { containerId: 'c'.repeat(1000), podName: 'p'.repeat(253), podNamespace: 'n'.repeat(63), room: 1500 },
    { containerId: 'c', podName: 'p', podNamespace: 'n', room: 200 },
  ];
  let offset = 1;
  for (const { room, ...names } of records) {
    while (Buffer.byteLength(JSON.stringify(shard)) + room < MAX_SHARD_BYTES) {
      shard = withReservation(shard, offset, { ...names, containerId: `${names.containerId}${offset}`, ifName: 'eth0', allocatedAt: new Date().toISOString() });
      offset++;
    }
  }
  await inspector(this).writeShard(stored, shardKey(place), shard, undefined);
});

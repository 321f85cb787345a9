import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import { KubeStore } from '../../lib/kube/store.js';
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

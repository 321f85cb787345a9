import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import type { PluginWorld } from '../support/world.js';

const INSPECT = resolve('dist/bin/leasehold-inspect');

/** Output of the last leasehold-inspect run, per scenario. */
const runs = new WeakMap<PluginWorld, { status: number | null; stdout: string; stderr: string }>();

function lastRun(world: PluginWorld): { status: number | null; stdout: string; stderr: string } {
  const run = runs.get(world);
  assert.ok(run, 'leasehold-inspect has not run in this scenario');
  return run;
}

When('the operator runs leasehold-inspect on {string}', function (this: PluginWorld, network: string) {
  const store = this.kube ? ['--kubeconfig', this.kube.kubeconfig, '--namespace', this.kube.namespace] : ['--store-dir', join(this.dir, 'store')];
  const result = spawnSync(INSPECT, [...store, '--network', this.storedName(network)], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 30_000 });
  runs.set(this, { status: result.status, stdout: result.stdout, stderr: result.stderr });
});

Given('a shard file of {string} is damaged', function (this: PluginWorld, network: string) {
  const root = join(this.dir, 'store');
  const slug = readdirSync(root).find((name) => name.startsWith(network));
  assert.ok(slug, `no store directory for ${network}`);
  const [file] = readdirSync(join(root, slug, 'shards')).filter((name) => name.endsWith('.json'));
  assert.ok(file);
  writeFileSync(join(root, slug, 'shards', file), '{');
});

Then('leasehold-inspect lists the address of container {string} on {string} with its pod', function (this: PluginWorld, container: string, network: string) {
  const json = this.results.get(`${container}/${network}/eth0`)?.json;
  assert.ok(json, `no ADD result for ${container}`);
  const address = (json.ips as Array<{ address: string }>)[0]?.address.split('/')[0] as string;
  const args = new Map(this.podArgs(container).split(';').map((pair) => pair.split('=') as [string, string]));
  const line = lastRun(this).stdout.split('\n').find((entry) => entry.trim().startsWith(`${address} `));
  assert.ok(line, `no line for ${address} in:\n${lastRun(this).stdout}`);
  assert.ok(line.includes(`${args.get('K8S_POD_NAMESPACE')}/${args.get('K8S_POD_NAME')}`), line);
  assert.ok(line.includes(container.slice(0, 12)), line);
});

Then('leasehold-inspect exits with status {int}', function (this: PluginWorld, status: number) {
  assert.equal(lastRun(this).status, status, lastRun(this).stderr);
});

Then('leasehold-inspect reports {string}', function (this: PluginWorld, text: string) {
  assert.ok(lastRun(this).stdout.includes(text), lastRun(this).stdout);
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import type { PluginWorld } from '../support/world.js';

function addressesOf(json: Record<string, unknown> | undefined): string[] {
  if (!json) return [];
  if (Array.isArray(json.ips)) return (json.ips as Array<{ address: string }>).map((ip) => ip.address);
  const old = ['ip4', 'ip6'].map((key) => (json[key] as { ip?: string } | undefined)?.ip);
  return old.filter((ip): ip is string => ip !== undefined);
}

/**
 * Lists every file under the scenario's store with its content: the whole stored state. The lock key
 * is left out: it is created with the store directory and holds no allocation state.
 */
function storeSnapshot(world: PluginWorld): string {
  const root = join(world.dir, 'store');
  const walk = (dir: string): string[] => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name));
    } catch {
      return [];
    }
    return entries.filter((name) => name !== '.lock-key').sort().flatMap((name) => (name.endsWith('/') ? walk(join(dir, name)) : [`${join(dir, name)}\n${readFileSync(join(dir, name), 'utf8')}`]));
  };
  return walk(root).join('\n');
}

Given('the CNI spec version {string}', function (this: PluginWorld, version: string) {
  this.cniVersion = version;
});

Given('a network {string} with the range set {string}', function (this: PluginWorld, network: string, subnets: string) {
  this.networks.set(network, { ranges: [subnets.split(',').map((subnet) => ({ subnet: subnet.trim() }))] });
});

Given('a network {string} with the IPAM configuration:', function (this: PluginWorld, network: string, json: string) {
  this.networks.set(network, JSON.parse(json));
});

Given('the runtime passes the configuration keys:', function (this: PluginWorld, json: string) {
  this.extra = JSON.parse(json);
});

Given('the runtime passes CNI_ARGS {string}', function (this: PluginWorld, args: string) {
  this.cniArgs = args;
});

Given('the stored state is recorded', function (this: PluginWorld) {
  this.attach(storeSnapshot(this), 'text/plain');
  (this as PluginWorld & { snapshot?: string }).snapshot = storeSnapshot(this);
});

When('the runtime calls {word} for container {string} on {string}', function (this: PluginWorld, command: string, container: string, network: string) {
  this.callFor(command, container, network);
});

When('the runtime calls {word} for container {string} interface {string} on {string}', function (this: PluginWorld, command: string, container: string, ifName: string, network: string) {
  this.callFor(command, container, network, ifName);
});

Given('the network {string} is redefined with the range set {string}', function (this: PluginWorld, network: string, subnets: string) {
  this.networks.set(network, { ranges: [subnets.split(',').map((subnet) => ({ subnet: subnet.trim() }))] });
});

When('node {string} calls ADD for containers {string} to {string} on {string}', function (this: PluginWorld, node: string, first: string, last: string, network: string) {
  this.node = node;
  addRange(this, first, last, network);
});

When('the runtime calls ADD for containers {string} to {string} on {string}', function (this: PluginWorld, first: string, last: string, network: string) {
  addRange(this, first, last, network);
});

function addRange(world: PluginWorld, first: string, last: string, network: string): void {
  const prefix = first.replace(/\d+$/, '');
  const from = Number(first.slice(prefix.length));
  const to = Number(last.slice(prefix.length));
  for (let i = from; i <= to; i++) world.callFor('ADD', `${prefix}${i}`, network);
}

When('the runtime calls CHECK for container {string} on {string} with the ADD result', function (this: PluginWorld, container: string, network: string) {
  this.extra = { ...this.extra, prevResult: this.results.get(`${container}/${network}/eth0`)?.json };
  this.callFor('CHECK', container, network);
});

When('the runtime calls GC on {string} with valid attachments {string}', function (this: PluginWorld, network: string, list: string) {
  const valid = list.split(',').map((item) => item.trim()).filter(Boolean).map((item) => {
    const [containerID, ifname] = item.split('/');
    return { containerID, ifname };
  });
  this.extra = { ...this.extra, 'cni.dev/valid-attachments': valid };
  this.call('GC', JSON.stringify(this.netconf(network)), {});
});

When('the runtime calls STATUS on {string}', function (this: PluginWorld, network: string) {
  this.call('STATUS', JSON.stringify(this.netconf(network)), {});
});

When('the runtime calls VERSION', function (this: PluginWorld) {
  this.call('VERSION', JSON.stringify({ cniVersion: this.cniVersion }), {});
});

When('the runtime calls {word} with stdin {string}', function (this: PluginWorld, command: string, stdin: string) {
  this.call(command, stdin, { CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0' });
});

When('the runtime calls ADD on {string} without {word}', function (this: PluginWorld, network: string, variable: string) {
  const env: Record<string, string | undefined> = { CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/c1', CNI_IFNAME: 'eth0' };
  delete env[variable];
  this.call('ADD', JSON.stringify(this.netconf(network)), env);
});

Then('the call succeeds', function (this: PluginWorld) {
  assert.equal(this.last?.exitCode, 0, `stdout: ${this.last?.stdout}\nstderr: ${this.last?.stderr}`);
});

Then('the call fails with CNI code {int}', function (this: PluginWorld, code: number) {
  assert.notEqual(this.last?.exitCode, 0, 'the call succeeded');
  assert.equal(this.last?.json?.code, code, `stdout: ${this.last?.stdout}`);
  assert.equal(typeof this.last?.json?.msg, 'string');
  assert.doesNotMatch(this.last?.stdout ?? '', /\n\s+at /, 'stdout holds a stack trace');
});

Then('the error message contains {string}', function (this: PluginWorld, text: string) {
  assert.ok(String(this.last?.json?.msg).includes(text), `message: ${String(this.last?.json?.msg)}`);
});

Then('stdout is empty', function (this: PluginWorld) {
  assert.equal(this.last?.stdout, '');
});

Then('the stored state is unchanged', function (this: PluginWorld) {
  assert.equal(storeSnapshot(this), (this as PluginWorld & { snapshot?: string }).snapshot);
});

Then('container {string} gets the address {string}', function (this: PluginWorld, container: string, address: string) {
  const entry = [...this.results.entries()].reverse().find(([key]) => key.startsWith(`${container}/`));
  assert.ok(entry, `no ADD for container ${container}`);
  assert.equal(entry[1].exitCode, 0, entry[1].stdout);
  assert.deepEqual(addressesOf(entry[1].json), address.split(',').map((item) => item.trim()));
});

Then('container {string} interface {string} on {string} gets the address {string}', function (this: PluginWorld, container: string, ifName: string, network: string, address: string) {
  const invocation = this.results.get(`${container}/${network}/${ifName}`);
  assert.equal(invocation?.exitCode, 0, invocation?.stdout);
  assert.deepEqual(addressesOf(invocation?.json), [address]);
});

Then('the result is:', function (this: PluginWorld, json: string) {
  assert.deepEqual(this.last?.json, JSON.parse(json));
});

Then('the result has the key {string}', function (this: PluginWorld, key: string) {
  assert.ok(this.last?.json, `no result: ${this.last?.stdout}`);
  assert.ok(key in this.last.json, `result: ${this.last.stdout}`);
});

Then('the result has no key {string}', function (this: PluginWorld, key: string) {
  assert.ok(this.last?.json, `no result: ${this.last?.stdout}`);
  assert.ok(!(key in this.last.json), `result: ${this.last.stdout}`);
});

Then('the result names cniVersion {string}', function (this: PluginWorld, version: string) {
  assert.equal(this.last?.json?.cniVersion, version);
});

Then('the addresses handed out so far are all different', function (this: PluginWorld) {
  const all = [...this.results.values()].filter((r) => r.exitCode === 0).flatMap((r) => addressesOf(r.json));
  assert.equal(new Set(all).size, all.length, all.join(', '));
});

Then('{int} ADD calls succeeded', function (this: PluginWorld, count: number) {
  assert.equal([...this.results.values()].filter((r) => r.exitCode === 0).length, count);
});

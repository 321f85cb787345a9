import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import { applyManifests, serviceAccountToken } from '../../test/e2e/support/kube-objects.js';
import { FEATURE_NAMESPACE, kubeClient } from '../support/kube.js';
import { BINARY, type PluginWorld } from '../support/world.js';

const INSTALLER = resolve('dist/bin/leasehold-install');
const PLUGIN_MANIFESTS = [
  'serviceaccount',
  'role',
  'rolebinding',
  'plugin-clusterrole',
  'plugin-clusterrolebinding',
];

/** Returns the scratch directories that stand in for one node's host paths. */
function hostDirs(
  world: PluginWorld,
  node: string,
): { bin: string; conf: string; account: string; state: string } {
  const base = join(world.dir, 'hosts', node);
  return {
    bin: join(base, 'bin'),
    conf: join(base, 'conf'),
    account: join(base, 'account'),
    state: join(base, 'state'),
  };
}

Given("the plugin's ServiceAccount from the manifests", async function (this: PluginWorld) {
  const kube = this.kube as NonNullable<PluginWorld['kube']>;
  const { client } = kubeClient();
  const files = PLUGIN_MANIFESTS.map((kind) => `manifests/${kind}.yaml`);
  await applyManifests(client, files, FEATURE_NAMESPACE, kube.suffix);
  for (const kind of ['clusterroles', 'clusterrolebindings']) {
    kube.created.push(`/apis/rbac.authorization.k8s.io/v1/${kind}/leasehold-plugin-${kube.suffix}`);
  }
});

When('the installer runs on node {string}', function (this: PluginWorld, node: string) {
  return runInstaller(this, node, []);
});

When(
  'the installer runs on node {string} with the flags {string}',
  function (this: PluginWorld, node: string, flags: string) {
    return runInstaller(this, node, flags.split(' '));
  },
);

/** Runs the built installer once, as the DaemonSet's pod would on `node`, into scratch host paths. */
async function runInstaller(world: PluginWorld, node: string, extraFlags: string[]): Promise<void> {
  const kube = world.kube as NonNullable<PluginWorld['kube']>;
  const dirs = hostDirs(world, node);
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const connection = connectionFromKubeconfig(kube.kubeconfig);
  writeFileSync(
    join(dirs.account, 'token'),
    await serviceAccountToken(kubeClient().client, FEATURE_NAMESPACE, 'leasehold'),
  );
  writeFileSync(join(dirs.account, 'ca.crt'), connection.ca ?? '');
  writeFileSync(join(dirs.account, 'namespace'), FEATURE_NAMESPACE);
  const flags = [
    '--once',
    '--store',
    'kubernetes',
    '--api-server',
    connection.server.origin,
    '--node-name',
    world.nodeName(node),
    '--cni-bin-dir',
    dirs.bin,
    '--cni-conf-dir',
    dirs.conf,
    '--host-cni-conf-dir',
    dirs.conf,
    '--service-account-dir',
    dirs.account,
    '--state-dir',
    dirs.state,
    '--plugin',
    BINARY,
    ...extraFlags,
  ];
  const result = spawnSync(INSTALLER, flags, {
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH },
  });
  world.last = {
    exitCode: result.status ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    json: undefined,
  };
  if (result.status === 0) {
    // From here on the node's calls go through what the installer wrote, and nothing else.
    world.installed.set(node, join(dirs.bin, 'leasehold'));
    kube.nodes.set(node, join(dirs.conf, 'leasehold.d', 'leasehold.conf'));
  }
}

Then('the installer exits with status {int}', function (this: PluginWorld, status: number) {
  assert.equal(this.last?.exitCode, status, `${this.last?.stdout}${this.last?.stderr}`);
});

Then(
  'node {string} has the plugin and a kubeconfig only its owner can read',
  function (this: PluginWorld, node: string) {
    const dirs = hostDirs(this, node);
    assert.ok(existsSync(join(dirs.bin, 'leasehold')));
    assert.ok(existsSync(join(dirs.bin, 'leasehold.d', 'node')));
    assert.equal(
      statSync(join(dirs.conf, 'leasehold.d', 'leasehold.kubeconfig')).mode & 0o777,
      0o600,
    );
    const hostConfig = JSON.parse(
      readFileSync(join(dirs.conf, 'leasehold.d', 'leasehold.conf'), 'utf8'),
    );
    assert.equal(hostConfig.nodeName, this.nodeName(node));
  },
);

Then('the installer output contains {string}', function (this: PluginWorld, text: string) {
  assert.ok(`${this.last?.stdout}${this.last?.stderr}`.includes(text), this.last?.stdout);
});

Then('node {string} has no plugin', function (this: PluginWorld, node: string) {
  assert.equal(existsSync(join(hostDirs(this, node).bin, 'leasehold')), false);
});

import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import { KubeStore } from '../../lib/kube/store.js';
import { checkConsistency, isConsistent } from '../../lib/pool/consistency.js';
import { setUpClusterRun } from './support/cluster.js';
import { applyManifests, serviceAccountToken } from './support/kube-objects.js';
import { addressesOf, runPluginProcess } from './support/plugin-process.js';
import { PLUGIN_BINARY, requireSystem } from './support/system.js';

const INSTALLER = resolve('dist/bin/leasehold-install');
const RUN = Date.now().toString(36);
const NAMESPACE = `lh-install-${RUN}`;
const PLUGIN_MANIFESTS = [
  'serviceaccount',
  'role',
  'rolebinding',
  'plugin-clusterrole',
  'plugin-clusterrolebinding',
];

const run = setUpClusterRun(NAMESPACE, 'leasehold-install-', requireSystem);

interface Host {
  bin: string;
  conf: string;
  account: string;
  state: string;
  env: Record<string, string>;
}

/** Creates a scratch host: CNI directories, a state directory, and the files of a ServiceAccount mount. */
async function newHost(name: string): Promise<Host> {
  const base = join(run.root, name);
  const host = {
    bin: join(base, 'bin'),
    conf: join(base, 'conf'),
    account: join(base, 'account'),
    state: join(base, 'state'),
  };
  for (const dir of Object.values(host)) mkdirSync(dir, { recursive: true });
  const admin = connectionFromKubeconfig(run.cluster.kubeconfig);
  writeFileSync(
    join(host.account, 'token'),
    await serviceAccountToken(run.cluster.client, NAMESPACE, 'leasehold'),
  );
  writeFileSync(join(host.account, 'ca.crt'), admin.ca as Buffer);
  writeFileSync(join(host.account, 'namespace'), NAMESPACE);
  const env = {
    PATH: process.env.PATH as string,
    KUBERNETES_SERVICE_HOST: admin.server.hostname,
    KUBERNETES_SERVICE_PORT: admin.server.port,
    NODE_NAME: `${name}-node`,
  };
  return { ...host, env };
}

function installerFlags(host: Host): string[] {
  return [
    '--cni-bin-dir',
    host.bin,
    '--cni-conf-dir',
    host.conf,
    '--host-cni-conf-dir',
    host.conf,
    '--service-account-dir',
    host.account,
    '--state-dir',
    host.state,
    '--plugin',
    PLUGIN_BINARY,
  ];
}

function runInstaller(
  flags: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(INSTALLER, flags, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (check()) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

function netconf(network: string): Record<string, unknown> {
  return {
    cniVersion: '1.1.0',
    name: network,
    type: 'macvlan',
    ipam: { type: 'leasehold', ranges: [[{ subnet: '10.70.0.0/24' }]] },
  };
}

describe('installer', () => {
  it('installs a plugin that allocates through the API server', async () => {
    const files = PLUGIN_MANIFESTS.map((kind) => `manifests/${kind}.yaml`);
    await applyManifests(run.cluster.client, files, NAMESPACE, RUN);
    const host = await newHost('first');

    const installed = await runInstaller(['--once', ...installerFlags(host)], host.env);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    const kubeconfig = join(host.conf, 'leasehold.d', 'leasehold.kubeconfig');
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(existsSync(join(host.bin, 'leasehold.d', 'leasehold.cjs.cache'))).toBe(true);
    expect(
      JSON.parse(readFileSync(join(host.conf, 'leasehold.d', 'leasehold.conf'), 'utf8')),
    ).toEqual({
      store: { type: 'kubernetes', kubeconfig, namespace: NAMESPACE },
      nodeName: 'first-node',
      stateDir: host.state,
    });

    // The plugin runs through the installed entry point, with only the files the installer wrote.
    const call = {
      binary: join(host.bin, 'leasehold'),
      hostConfig: join(host.conf, 'leasehold.d', 'leasehold.conf'),
      netconf: netconf(`install-${RUN}`),
    };
    const added = await runPluginProcess({ ...call, command: 'ADD', containerId: 'inst1' });
    expect(added.stdout).toMatch(/"ips"/);
    expect(addressesOf(added)).toEqual(['10.70.0.2']);
    const store = new KubeStore({
      client: run.cluster.client,
      namespace: NAMESPACE,
      holder: 'test',
      cacheDir: host.state,
    });
    const report = await checkConsistency(store, `install-${RUN}`);
    expect(isConsistent(report)).toBe(true);
    expect(report.allocations.map((entry) => entry.owner.containerId)).toEqual(['inst1']);

    const deleted = await runPluginProcess({ ...call, command: 'DEL', containerId: 'inst1' });
    expect(deleted.code).toBe(0);
    expect((await checkConsistency(store, `install-${RUN}`)).allocations).toEqual([]);
  });

  it('rewrites the kubeconfig when the token rotates', async () => {
    const host = await newHost('rotate');
    const kubeconfig = join(host.conf, 'leasehold.d', 'leasehold.kubeconfig');
    const entry = join(host.bin, 'leasehold');
    const child: ChildProcess = spawn(INSTALLER, ['--interval', '200ms', ...installerFlags(host)], {
      env: host.env,
      stdio: 'ignore',
    });
    try {
      await waitFor(
        () => existsSync(kubeconfig) && existsSync(entry),
        'the installer wrote its files',
      );
      const rotated = await serviceAccountToken(run.cluster.client, NAMESPACE, 'leasehold');
      writeFileSync(join(host.account, 'token'), `${rotated}\n`);
      await waitFor(
        () => readFileSync(kubeconfig, 'utf8').includes(rotated),
        'the kubeconfig has the new token',
      );

      rmSync(entry);
      await waitFor(() => existsSync(entry), 'the entry point is back');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((done) => child.on('close', done));
    expect(code).toBe(0);
  });

  it('fails without writing the entry point when the bundle is missing', async () => {
    const host = await newHost('broken');
    const flags = [...installerFlags(host), '--once', '--plugin', join(host.bin, 'missing')];

    const exit = await runInstaller(flags, host.env);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toContain(`failed to read ${join(host.bin, 'missing')}`);
    expect(exit.stdout).toContain('give the plugin bundle with --plugin');
    expect(existsSync(join(host.bin, 'leasehold'))).toBe(false);
  });

  it('keeps the installed bundle when --plugin does not run', async () => {
    const host = await newHost('foreign');
    const first = await runInstaller(['--once', ...installerFlags(host)], host.env);
    expect(first.code).toBe(0);
    const installed = join(host.bin, 'leasehold.d', 'leasehold.cjs');
    const before = readFileSync(installed);
    const foreign = join(run.root, 'foreign.cjs');
    writeFileSync(foreign, 'this is not the plugin\n');

    const flags = [...installerFlags(host), '--once', '--plugin', foreign];
    const exit = await runInstaller(flags, host.env);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toContain(`failed to run ${foreign}`);
    expect(exit.stdout).toContain('give the plugin bundle with --plugin');
    expect(readFileSync(installed).equals(before)).toBe(true);
  });

  it('removes temporaries of a killed pass', async () => {
    const host = await newHost('leftovers');
    const hourAgo = new Date(Date.now() - 3_600_000);
    const stale = [
      join(host.bin, '.leasehold.0123456789ab.tmp'),
      join(host.bin, 'leasehold.d', '.node.0123456789ab.tmp'),
      join(host.conf, 'leasehold.d', '.leasehold.kubeconfig.0123456789ab.tmp'),
    ];
    const young = join(host.bin, 'leasehold.d', '.node.ba9876543210.tmp');
    for (const path of [...stale, young]) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, 'partial');
      if (path !== young) utimesSync(path, hourAgo, hourAgo);
    }

    const exit = await runInstaller(['--once', ...installerFlags(host)], host.env);
    expect(exit.code).toBe(0);
    for (const path of stale) expect(existsSync(path)).toBe(false);
    // A younger one may belong to an installer that is running at this moment.
    expect(existsSync(young)).toBe(true);
  });

  it('rejects an invalid flag with status 2', async () => {
    const host = await newHost('flags');

    const exit = await runInstaller(
      [...installerFlags(host), '--service-cidrs', '10.96.0.0/33'],
      host.env,
    );
    expect(exit.code).toBe(2);
    expect(exit.stderr).toBe(
      'leasehold-install: invalid value "10.96.0.0/33" in --service-cidrs: give CIDRs separated by commas, such as 10.96.0.0/12,fd00:10:96::/112\n',
    );
    expect(existsSync(join(host.bin, 'leasehold'))).toBe(false);
  });
});

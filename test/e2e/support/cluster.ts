import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { KubeClient } from '../../../lib/kube/client.js';
import { connectionFromKubeconfig } from '../../../lib/kube/connection.js';

const SCRIPT = resolve('test/cluster/cluster.sh');

function cluster(...args: string[]): string {
  return execFileSync('bash', [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function isRunning(): boolean {
  try {
    execFileSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A local kube-apiserver for one test run; stopped afterwards only if this run started it. */
export interface LocalCluster {
  kubeconfig: string;
  client: KubeClient;
  stop(): void;
}

export function startCluster(): LocalCluster {
  const wasRunning = isRunning();
  const kubeconfig = cluster('up').split('\n').at(-1) as string;
  const client = new KubeClient(connectionFromKubeconfig(kubeconfig));
  return {
    kubeconfig,
    client,
    stop: () => {
      client.close();
      if (!wasRunning) cluster('down');
    },
  };
}

export function restartApiServer(): void {
  cluster('restart-apiserver');
}

/** Creates a namespace (idempotent) for one test's objects. */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, expect: [409] });
}

/** A node-local state directory and host configuration for one simulated node. */
export function simulatedNode(root: string, node: string, kubeconfig: string, namespace: string): { hostConfig: string; stateDir: string } {
  const stateDir = join(root, node);
  execFileSync('mkdir', ['-p', stateDir]);
  const hostConfig = join(stateDir, 'leasehold.conf');
  writeFileSync(hostConfig, JSON.stringify({ store: { type: 'kubernetes', kubeconfig, namespace }, nodeName: node, stateDir }));
  return { hostConfig, stateDir };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The cluster and scratch directory of one test file, set up before its first test. */
export interface ClusterRun {
  cluster: LocalCluster;
  root: string;
}

/** Starts the local control plane for a test file, with a namespace and a scratch directory. */
export function setUpClusterRun(namespace: string, prefix: string, requireSystem: () => void): ClusterRun {
  const run = {} as ClusterRun;
  beforeAll(async () => {
    requireSystem();
    run.cluster = startCluster();
    await createNamespace(run.cluster.client, namespace);
    run.root = scratchDir(prefix);
  }, 900_000);
  afterAll(() => {
    run.cluster?.stop();
    if (run.root) rmSync(run.root, { recursive: true, force: true });
  });
  return run;
}

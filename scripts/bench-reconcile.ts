// Measures the reconciler at scale: shard ConfigMaps holding BENCH_ALLOCATIONS owner records
// (default 100000) and BENCH_PODS pods (default 20000) created through the API, then one dry
// run between two real runs (the first marks, the second frees) of the built binary.
import { execFileSync, spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { KubeClient } from '../lib/kube/client.js';
import { connectionFromKubeconfig } from '../lib/kube/connection.js';
import { KubeStore } from '../lib/kube/store.js';
import { type Owner, type ShardData, SHARD_SIZE, newShard, shardKey } from '../lib/ipam/shard.js';

const ALLOCATIONS = Number(process.env.BENCH_ALLOCATIONS ?? 100_000);
const PODS = Number(process.env.BENCH_PODS ?? 20_000);
/** Owner records per shard: a full shard less a few, as a busy network has. */
const PER_SHARD = 1_000;
const CONCURRENCY = 32;
const binary = resolve('dist/bin/leasehold-reconcile');
const tag = Date.now().toString(36);

async function withConcurrency(
  limit: number,
  count: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/** Returns a shard whose first `count` bits are set, with the given owner records. */
function filledShard(
  network: string,
  block: number,
  owners: Record<string, Owner>,
  count: number,
): ShardData {
  const place = {
    family: 4 as const,
    subnetFirst: 0x0a800000n,
    prefixLength: 12,
    block: BigInt(block),
  };
  const shard = newShard(network, place);
  const bits = Buffer.alloc(SHARD_SIZE / 8);
  for (let offset = 0; offset < count; offset++)
    bits[offset >> 3] = (bits[offset >> 3] ?? 0) | (1 << (offset & 7));
  return { ...shard, bitmap: bits.toString('base64'), last: count - 1, owners };
}

async function createPods(client: KubeClient, namespace: string, uids: string[]): Promise<number> {
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    expect: [409],
  });
  await client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
    expect: [409],
  });
  const started = Date.now();
  await withConcurrency(CONCURRENCY, PODS, async (i) => {
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p${i}` },
      spec: {
        nodeName: 'bench-node',
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
      },
    };
    const created = await client.request<{ metadata: { uid: string } }>(
      'POST',
      `/api/v1/namespaces/${namespace}/pods`,
      { body },
    );
    uids[i] = created.body.metadata.uid;
  });
  return Date.now() - started;
}

/**
 * Writes the shards: allocation i belongs to pod p<i>, so the first PODS allocations are live
 * and the rest stale.
 */
async function writeShards(
  store: KubeStore,
  network: string,
  pods: string,
  uids: string[],
): Promise<number> {
  const started = Date.now();
  const allocatedAt = new Date(Date.now() - 3_600_000).toISOString();
  const shards = Math.ceil(ALLOCATIONS / PER_SHARD);
  await withConcurrency(4, shards, async (block) => {
    const owners: Record<string, Owner> = {};
    const count = Math.min(PER_SHARD, ALLOCATIONS - block * PER_SHARD);
    for (let offset = 0; offset < count; offset++) {
      const i = block * PER_SHARD + offset;
      const containerId = i.toString(16).padStart(64, 'c');
      owners[String(offset)] = {
        containerId,
        ifName: 'net1',
        podNamespace: pods,
        podName: `p${i}`,
        podUid: uids[i] ?? `00000000-0000-0000-0000-${i.toString().padStart(12, '0')}`,
        node: 'bench-node',
        allocatedAt,
      };
    }
    const place = {
      family: 4 as const,
      subnetFirst: 0x0a800000n,
      prefixLength: 12,
      block: BigInt(block),
    };
    await store.writeShard(
      network,
      shardKey(place),
      filledShard(network, block, owners, count),
      undefined,
    );
  });
  return Date.now() - started;
}

interface Measured {
  wallMs: number;
  maxRssKiB: number;
  summary: Record<string, unknown>;
}

/** Runs the reconciler under /usr/bin/time -v and returns its wall time, peak RSS and summary. */
function measure(kubeconfig: string, namespace: string, flags: string[]): Promise<Measured> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const child = spawn(
      '/usr/bin/time',
      [
        '-v',
        binary,
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        namespace,
        '--once',
        '--min-age',
        '0s',
        '--grace-period',
        '0s',
        ...flags,
      ],
      { env: { PATH: process.env.PATH } },
    );
    let summary: Record<string, unknown> | undefined;
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines)
        if (line.includes('"reconcile run finished"')) summary = JSON.parse(line);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      if (pending.includes('"reconcile run finished"')) summary = JSON.parse(pending);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      if (!summary || !rss)
        return fail(new Error(`reconciler exited with ${code}: ${stderr.slice(-500)}`));
      done({ wallMs: Date.now() - started, maxRssKiB: Number(rss[1]), summary });
    });
  });
}

function row(label: string, run: Measured): string {
  const s = run.summary;
  return `| ${label} | ${(run.wallMs / 1000).toFixed(1)} | ${s.requests} | ${(run.maxRssKiB / 1024).toFixed(0)} | ${s.examined} | ${s.marked} | ${s.freed} | ${s.errors} |`;
}

const kubeconfig = execFileSync('bash', ['test/cluster/cluster.sh', 'up'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
})
  .trim()
  .split('\n')
  .at(-1) as string;
const client = new KubeClient(connectionFromKubeconfig(kubeconfig), 30_000);
const storeNamespace = `lh-bench-rec-${tag}`;
const podNamespace = `bench-pods-${tag}`;
await client.request('POST', '/api/v1/namespaces', {
  body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: storeNamespace } },
  expect: [409],
});
const store = new KubeStore({
  client,
  namespace: storeNamespace,
  holder: 'bench',
  cacheDir: `/tmp/leasehold-bench-reconcile-${tag}`,
});
const uids: string[] = [];
const podMs = await createPods(client, podNamespace, uids);
const shardMs = await writeShards(store, `bench-${tag}`, podNamespace, uids);
client.close();

console.log(
  `Machine: ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
console.log(
  `${PODS} pods created in ${(podMs / 1000).toFixed(1)} s (${((PODS * 1000) / podMs).toFixed(0)}/s, ${CONCURRENCY} at once); ${ALLOCATIONS} allocations in ${Math.ceil(ALLOCATIONS / PER_SHARD)} shards written in ${(shardMs / 1000).toFixed(1)} s\n`,
);
console.log(
  '| run | wall s | API requests | peak RSS MiB | examined | marked | freed | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
console.log(row('run 1 (marks)', await measure(kubeconfig, storeNamespace, [])));
console.log(row('dry run (would free)', await measure(kubeconfig, storeNamespace, ['--dry-run'])));
console.log(row('run 2 (frees)', await measure(kubeconfig, storeNamespace, [])));

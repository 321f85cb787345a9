// Measures the built plugin: start-up next to bare Node.js and the Go host-local plugin, the file
// store, and the Kubernetes store against the local control plane (latency, throughput across 8
// simulated nodes, CPU time and API requests per ADD). Prints Markdown; docs/benchmarks.md
// records runs with the machine they ran on.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeClient } from '../lib/kube/client.js';
import { connectionFromKubeconfig } from '../lib/kube/connection.js';

const binary = resolve('dist/bin/leasehold');
const hostLocal = '/usr/lib/cni/host-local';
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'leasehold-bench-'));

interface Run {
  ms: number;
  cpuMs: number;
  code: number | null;
  stderr: string;
}

/** Runs a command with only PATH and the given variables, timing wall clock and CPU. */
function run(command: string, args: string[], input: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolveRun) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'cpu %U %S', command, ...args], { env: { PATH: process.env.PATH, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    child.stdin.end(input);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const match = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      const cpuMs = match ? (Number(match[1]) + Number(match[2])) * 1000 : NaN;
      resolveRun({ ms, cpuMs, code, stderr });
    });
  });
}

function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function mean(samples: number[]): number {
  return samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

function cniEnv(command: string, id: string, hostConfig: string): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${id}`, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', LEASEHOLD_CONFIG_FILE: hostConfig };
}

function netconf(name: string, subnet: string, store?: Record<string, unknown>): string {
  return JSON.stringify({ cniVersion: '1.1.0', name, type: 'macvlan', ipam: { type: 'leasehold', ranges: [[{ subnet }]], ...(store ? { store } : {}) } });
}

function row(label: string, samples: number[], extra = ''): string {
  return `| ${label} | ${quantile(samples, 0.5).toFixed(1)} | ${quantile(samples, 0.99).toFixed(1)} | ${extra} |`;
}

async function series(count: number, make: (i: number) => Promise<Run>): Promise<Run[]> {
  await make(-1);
  const runs: Run[] = [];
  for (let i = 0; i < count; i++) runs.push(await make(i));
  const failed = runs.find((entry) => entry.code !== 0);
  if (failed) throw new Error(`a benchmark call failed: ${failed.stderr}`);
  return runs;
}

/** Installs the plugin as leasehold-install does on a node, once, and returns its entry point. */
function installEntryPoint(): string {
  const bin = join(dir, 'cni-bin');
  if (existsSync(join(bin, 'leasehold'))) return join(bin, 'leasehold');
  execFileSync(resolve('dist/bin/leasehold-install'), ['--once', '--store', 'file', '--cni-bin-dir', bin, '--plugin', binary], { stdio: 'ignore' });
  return join(bin, 'leasehold');
}

async function startUp(): Promise<string[]> {
  const none = join(dir, 'none');
  const nodeRuns = await series(rounds, () => run(process.execPath, ['-e', '1'], '', {}));
  const version = await series(rounds, () => run(binary, [], '', { CNI_COMMAND: 'VERSION' }));
  const fileConf = netconf('bench-file', '10.98.0.0/16', { type: 'file', dir: join(dir, 'store') });
  const fileAdd = await series(rounds, (i) => run(binary, [], fileConf, cniEnv('ADD', `f${i}`, none)));
  const entry = installEntryPoint();
  const entryAdd = await series(rounds, (i) => run(entry, [], fileConf, cniEnv('ADD', `e${i}`, none)));
  const lines = [
    row('node -e 1', nodeRuns.map((r) => r.ms), `${mean(nodeRuns.map((r) => r.cpuMs)).toFixed(0)} ms CPU`),
    row('leasehold VERSION (start-up)', version.map((r) => r.ms), `${mean(version.map((r) => r.cpuMs)).toFixed(0)} ms CPU`),
    row('leasehold ADD, file store', fileAdd.map((r) => r.ms), `${mean(fileAdd.map((r) => r.cpuMs)).toFixed(0)} ms CPU`),
    row('leasehold ADD, file store, through the installed entry point', entryAdd.map((r) => r.ms), `${mean(entryAdd.map((r) => r.cpuMs)).toFixed(0)} ms CPU`),
  ];
  if (existsSync(hostLocal)) {
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'bench-host-local', type: 'bridge', ipam: { type: 'host-local', ranges: [[{ subnet: '10.97.0.0/16' }]], dataDir: join(dir, 'host-local') } });
    const adds = await series(rounds, (i) => run(hostLocal, [], conf, cniEnv('ADD', `h${i}`, none)));
    lines.push(row('host-local ADD (Go)', adds.map((r) => r.ms), `${mean(adds.map((r) => r.cpuMs)).toFixed(0)} ms CPU`));
  }
  return lines;
}

/** ConfigMap and Lease requests the API server has served, from its own metrics. */
async function serverRequests(client: KubeClient): Promise<number> {
  const response = await client.request<undefined>('GET', '/metrics', { accept: 'text/plain' });
  void response;
  return client.lastText
    .split('\n')
    .filter((line) => line.startsWith('apiserver_request_total{') && /resource="(configmaps|leases)"/.test(line))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function kubernetes(): Promise<string[]> {
  const kubeconfig = execFileSync('bash', ['test/cluster/cluster.sh', 'up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1) as string;
  const client = new KubeClient(connectionFromKubeconfig(kubeconfig));
  const namespace = 'leasehold-bench';
  await client.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, expect: [409] });
  const hosts = Array.from({ length: 8 }, (_, i) => {
    const stateDir = join(dir, `node-${i}`);
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, 'leasehold.conf');
    writeFileSync(path, JSON.stringify({ store: { type: 'kubernetes', kubeconfig, namespace }, nodeName: `node-${i}`, stateDir }));
    return path;
  });
  const tag = Date.now().toString(36);
  const single = netconf(`bench-single-${tag}`, '10.126.0.0/16');
  let before = await serverRequests(client);
  const adds = await series(rounds, (i) => run(binary, [], single, cniEnv('ADD', `s${i}`, hosts[0] as string)));
  const addRequests = (await serverRequests(client)) - before;
  before = await serverRequests(client);
  const dels = await series(rounds, (i) => run(binary, [], single, cniEnv('DEL', `s${i}`, hosts[0] as string)));
  const delRequests = (await serverRequests(client)) - before;
  const perCall = (requests: number): string => (requests / (rounds + 1)).toFixed(2);
  const entry = installEntryPoint();
  const entryAdds = await series(rounds, (i) => run(entry, [], single, cniEnv('ADD', `e${i}`, hosts[0] as string)));
  await series(rounds, (i) => run(entry, [], single, cniEnv('DEL', `e${i}`, hosts[0] as string)));
  const lines = [
    row('ADD, Kubernetes store, one node', adds.map((r) => r.ms), `${mean(adds.map((r) => r.cpuMs)).toFixed(0)} ms CPU, ${perCall(addRequests)} API requests`),
    row('DEL, Kubernetes store, one node', dels.map((r) => r.ms), `${mean(dels.map((r) => r.cpuMs)).toFixed(0)} ms CPU, ${perCall(delRequests)} API requests`),
    row('ADD, Kubernetes store, one node, through the installed entry point', entryAdds.map((r) => r.ms), `${mean(entryAdds.map((r) => r.cpuMs)).toFixed(0)} ms CPU`),
  ];
  lines.push('', '| concurrency | ADDs | wall s | ADDs/s | p50 ms | p99 ms | API requests per ADD | failed |', '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const concurrency of [1, 16, 64]) {
    const total = Math.max(64, concurrency * 3);
    const conf = netconf(`bench-c${concurrency}-${tag}`, '10.125.0.0/16');
    let next = 0;
    const runs: Run[] = [];
    const requestsBefore = await serverRequests(client);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          runs.push(await run(binary, [], conf, cniEnv('ADD', `c${concurrency}-${i}`, hosts[i % 8] as string)));
        }
      }),
    );
    const wall = (Date.now() - started) / 1000;
    const requests = (await serverRequests(client)) - requestsBefore;
    const ok = runs.filter((entry) => entry.code === 0);
    lines.push(`| ${concurrency} | ${total} | ${wall.toFixed(1)} | ${(ok.length / wall).toFixed(1)} | ${quantile(ok.map((r) => r.ms), 0.5).toFixed(0)} | ${quantile(ok.map((r) => r.ms), 0.99).toFixed(0)} | ${(requests / total).toFixed(2)} | ${runs.length - ok.length} |`);
  }
  client.close();
  return lines;
}

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${rounds} rounds; each process gets only PATH in its environment\n`);
console.log('| what | p50 ms | p99 ms | notes |\n| --- | ---: | ---: | --- |');
try {
  for (const line of await startUp()) console.log(line);
  if (process.env.BENCH_SKIP_KUBERNETES !== '1') for (const line of await kubernetes()) console.log(line);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

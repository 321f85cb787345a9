// Measures start-up and per-call cost of the built plugin with the file store, next to bare
// Node.js and the Go host-local plugin. Prints a Markdown table; docs/benchmarks.md records runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const binary = resolve('dist/bin/leasehold');
const hostLocal = '/usr/lib/cni/host-local';
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const dir = mkdtempSync(join(tmpdir(), 'leasehold-bench-'));

function quantile(samples, q) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function timed(command, args, input, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { input, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stdout}${result.stderr}`);
  return ms;
}

function cniEnv(command, id) {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: `/var/run/netns/${id}`,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/opt/cni/bin',
    LEASEHOLD_CONFIG_FILE: join(dir, 'none'),
  };
}

function netconf(type, subnet) {
  const ipam = { type, ranges: [[{ subnet }]] };
  if (type === 'leasehold') ipam.store = { type: 'file', dir: join(dir, 'store') };
  else ipam.dataDir = join(dir, 'host-local');
  return JSON.stringify({ cniVersion: '1.0.0', name: `bench-${type}-${subnet.replace(/[^0-9]/g, '-')}`, type: 'bridge', ipam });
}

function series(label, run) {
  run(-1);
  const samples = Array.from({ length: rounds }, (_, i) => run(i));
  return { label, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

function maxRssKb(command, input, env) {
  if (!existsSync('/usr/bin/time')) return undefined;
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command], { input, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  return Number(result.stderr.trim().split('\n').at(-1));
}

async function concurrentAdds(count) {
  const conf = netconf('leasehold', '10.99.0.0/22');
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise((resolveRun, reject) => {
        const child = spawn(binary, [], { env: { PATH: process.env.PATH, ...cniEnv('ADD', `burst-${i}`) } });
        child.stdin.end(conf);
        child.on('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`ADD ${i} exited ${code}`))));
      }),
    ),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const rows = [];
rows.push(series('node -e 1', () => timed(process.execPath, ['-e', '1'], '', {})));
rows.push(series('leasehold VERSION (start-up only)', () => timed(binary, [], '', { CNI_COMMAND: 'VERSION' })));
const leaseholdConf = netconf('leasehold', '10.98.0.0/16');
rows.push(series('leasehold ADD + DEL, file store', (i) => timed(binary, [], leaseholdConf, cniEnv('ADD', `c${i}`)) + timed(binary, [], leaseholdConf, cniEnv('DEL', `c${i}`))));
if (existsSync(hostLocal)) {
  const hostLocalConf = netconf('host-local', '10.97.0.0/16');
  rows.push(series('host-local ADD + DEL (Go)', (i) => timed(hostLocal, [], hostLocalConf, cniEnv('ADD', `c${i}`)) + timed(hostLocal, [], hostLocalConf, cniEnv('DEL', `c${i}`))));
}

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${rounds} rounds\n`);
console.log('| what | p50 ms | p99 ms |\n| --- | ---: | ---: |');
for (const row of rows) console.log(`| ${row.label} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} |`);

const burst = 50;
const wall = await concurrentAdds(burst);
console.log(`\n${burst} concurrent ADDs (one process each) into one /22: ${wall.toFixed(0)} ms wall, ${((burst / wall) * 1000).toFixed(0)} ADDs/s`);
const rss = maxRssKb(binary, leaseholdConf, cniEnv('ADD', 'rss-probe'));
if (rss) console.log(`Peak resident memory of one ADD: ${(rss / 1024).toFixed(1)} MiB`);
rmSync(dir, { recursive: true, force: true });

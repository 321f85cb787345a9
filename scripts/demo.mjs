// Runs the built plugin on every example NetworkAttachmentDefinition the way a runtime does, with
// the embedded file store in a scratch directory, and prints what each pod got. Each network
// gets ADD for three pods, ADD again for the first, DEL for one and ADD for a fourth; 1.1.0
// networks also get a GC that keeps two pods and a STATUS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const binary = resolve('dist/bin/leasehold');
const store = mkdtempSync(join(tmpdir(), 'leasehold-demo-'));

function call(command, netconf, pod, extra = {}) {
  const result = spawnSync(binary, [], {
    input: JSON.stringify({ ...netconf, ...extra }),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      LEASEHOLD_CONFIG_FILE: join(store, 'host.conf'),
      LEASEHOLD_LOG_LEVEL: 'error',
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod ? `cid-${pod}` : '',
      CNI_NETNS: pod ? `/var/run/netns/${pod}` : '',
      CNI_IFNAME: 'net1',
      CNI_PATH: '/opt/cni/bin',
      CNI_ARGS: pod ? `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_UID=uid-${pod}` : '',
    },
  });
  const json = result.stdout.trim() ? JSON.parse(result.stdout) : undefined;
  if (result.status !== 0) return { ok: false, text: `error ${json?.code}: ${json?.msg}` };
  return { ok: true, json };
}

function describe(json) {
  if (!json) return '';
  const ips = json.ips ?? [json.ip4, json.ip6].filter(Boolean).map((ip) => ({ address: ip.ip, gateway: ip.gateway }));
  return ips.map((ip) => `${ip.address}${ip.gateway ? ` via ${ip.gateway}` : ''}`).join(', ');
}

let failures = 0;
const dir = 'examples/nad';
for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()) {
  const nad = parse(readFileSync(join(dir, file), 'utf8'));
  const netconf = JSON.parse(nad.spec.config);
  if (netconf.ipam.stickyStatefulSets || netconf.ipam.rangesFrom) {
    console.log(`\n${nad.metadata.name} (${file}): needs the Kubernetes store; see features/ for it at work`);
    continue;
  }
  netconf.ipam.store = { type: 'file', dir: store };
  console.log(`\n${nad.metadata.name} (${file}): ${netconf.type} plugin, cniVersion ${netconf.cniVersion}`);
  const steps = [
    ['ADD', 'pod-a'],
    ['ADD', 'pod-b'],
    ['ADD', 'pod-c'],
    ['ADD', 'pod-a'],
    ['DEL', 'pod-b'],
    ['ADD', 'pod-d'],
  ];
  for (const [command, pod] of steps) {
    const outcome = call(command, netconf, pod);
    if (!outcome.ok) failures++;
    let summary = outcome.text;
    if (outcome.ok) summary = command === 'ADD' ? describe(outcome.json) : 'released';
    console.log(`  ${command.padEnd(6)} ${pod.padEnd(6)} ${summary}`);
  }
  if (netconf.cniVersion === '1.1.0') {
    const valid = ['pod-a', 'pod-d'].map((pod) => ({ containerID: `cid-${pod}`, ifname: 'net1' }));
    // GC keeps allocations younger than ipam.gcMinAgeSeconds (60); these are seconds old.
    const gcNetconf = { ...netconf, ipam: { ...netconf.ipam, gcMinAgeSeconds: 0 } };
    const gc = call('GC', gcNetconf, undefined, { 'cni.dev/valid-attachments': valid });
    console.log(`  GC     keep pod-a and pod-d: ${gc.ok ? 'pod-c released' : gc.text}`);
    const status = call('STATUS', netconf);
    console.log(`  STATUS ${status.ok ? 'ready for ADD' : status.text}`);
  }
}
rmSync(store, { recursive: true, force: true });
if (failures > 0) {
  console.error(`\n${failures} calls failed`);
  process.exit(1);
}
console.log('\nEach ADD above is the call a macvlan, ipvlan or bridge plugin makes to its IPAM plugin.');

import type { Owner } from '../ipam/shard.js';
import { isConsistent } from '../pool/consistency.js';
import type { NetworkInventory } from './collect.js';

/** Returns true when no network has duplicates, mismatched bits and owners, or unreadable shards. */
export function allConsistent(networks: NetworkInventory[]): boolean {
  return networks.every(isConsistent);
}

function notes(owner: Owner): string {
  const parts: string[] = [];
  if (owner.sticky) parts.push(`kept for ${owner.sticky}`);
  if (owner.detachedAt) parts.push(`detached ${owner.detachedAt}`);
  if (owner.stale) parts.push(`stale since ${owner.stale.since} (${owner.stale.reason})`);
  return parts.join('; ');
}

function pod(owner: Owner): string {
  if (!owner.podNamespace || !owner.podName) return '-';
  return `${owner.podNamespace}/${owner.podName}`;
}

/** Lays rows out in columns two spaces apart; the last column is not padded. */
function columns(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, index) => Math.max(...rows.map((row) => (row[index] ?? '').length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  ').trimEnd());
}

const PROBLEMS: Array<[keyof NetworkInventory, string, string]> = [
  ['duplicates', 'addresses in more than one shard', 'restore the shards from a backup'],
  ['bitsWithoutOwner', 'set bits without an owner record', 'no DEL releases them; clear them by hand once no pod uses them'],
  ['ownersWithoutBit', 'owner records without their bit', 'these addresses could be handed out twice; set the bits by hand'],
  ['unreadable', 'unreadable shards', 'restore them from a backup'],
];

/** Formats the inventory as text: one table of allocations per network, then its problems. */
export function formatText(networks: NetworkInventory[]): string {
  if (networks.length === 0) return 'no allocations found\n';
  const lines: string[] = [];
  for (const entry of networks) {
    lines.push(`network ${entry.network}: ${entry.allocations.length} addresses in ${entry.shards} shards`);
    const header = ['ADDRESS', 'POD', 'POD UID', 'INTERFACE', 'NODE', 'CONTAINER', 'ALLOCATED', 'NOTES'];
    const rows = entry.allocations.map(({ address, owner }) => [
      address,
      pod(owner),
      owner.podUid ?? '-',
      owner.ifName,
      owner.node ?? '-',
      owner.containerId.slice(0, 12),
      owner.allocatedAt,
      notes(owner),
    ]);
    if (rows.length > 0) lines.push(...columns([header, ...rows]).map((line) => `  ${line}`));
    for (const [key, what, fix] of PROBLEMS) {
      const found = entry[key] as string[];
      if (found.length > 0) lines.push(`  problem: ${found.length} ${what}: ${found.slice(0, 20).join(', ')}${found.length > 20 ? ', ...' : ''}; ${fix}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

import { CniCode, LeaseholdError } from '../errors.js';
import { formatAddress, parsePrefix } from '../ipam/address.js';
import { type CommandContext, attachmentOf } from './context.js';

function mismatch(message: string): LeaseholdError {
  return new LeaseholdError('RESERVATION_MISMATCH', CniCode.RESERVATION_MISMATCH, message);
}

/** Addresses listed in prevResult, without their prefix lengths. */
function previousAddresses(prevResult: unknown): string[] {
  const ips = (prevResult as { ips?: Array<{ address?: unknown }> } | undefined)?.ips ?? [];
  return ips.flatMap((ip) => {
    const prefix = typeof ip.address === 'string' ? parsePrefix(ip.address) : undefined;
    return prefix ? [formatAddress(prefix.family, prefix.address)] : [];
  });
}

/** CHECK: fails when the attachment's reservation is missing or differs from prevResult. */
export async function check(context: CommandContext): Promise<undefined> {
  const attachment = attachmentOf(context.env);
  const network = context.pool.network;
  const held = await context.pool.find(attachment, true);
  const heldText = held.map((allocation) => formatAddress(allocation.family, allocation.address));
  if (held.length === 0) {
    throw mismatch(`no address is reserved on network "${network}" for container ${attachment.containerId} interface ${attachment.ifName}; run ADD again`);
  }
  if (held.length < context.config.spec.rangeSets.length) {
    throw mismatch(`container ${attachment.containerId} interface ${attachment.ifName} has ${heldText.join(', ')} on network "${network}", fewer than its ${context.config.spec.rangeSets.length} range sets; run ADD again`);
  }
  const prevResult = context.config.netconf.prevResult;
  if (prevResult === undefined) return undefined;
  const previous = previousAddresses(prevResult);
  const missing = heldText.filter((address) => !previous.includes(address));
  if (missing.length > 0) {
    throw mismatch(`prevResult lists ${previous.join(', ') || 'no address'}, but container ${attachment.containerId} interface ${attachment.ifName} has ${heldText.join(', ')} on network "${network}"`);
  }
  return undefined;
}

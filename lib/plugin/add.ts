import { type IpamResult, formatResult } from '../cni/result.js';
import { requestedAddresses } from '../config/load.js';
import { formatAddress } from '../ipam/address.js';
import type { Allocation } from '../pool/pool.js';
import { checkClusterOverlap, stickyKey } from './cluster.js';
import { type CommandContext, attachmentOf } from './context.js';

export function resultOf(context: CommandContext, allocations: Allocation[]): IpamResult {
  return {
    ips: allocations.map((allocation) => ({
      family: allocation.family,
      address: allocation.address,
      prefixLength: allocation.prefixLength,
      gateway: allocation.range?.gateway,
    })),
    routes: context.config.routes,
    dns: context.config.dns,
  };
}

/** ADD: reserves one address per range set, or returns what the attachment already holds. */
export async function add(context: CommandContext): Promise<Record<string, unknown>> {
  const requested = requestedAddresses(context.config.netconf, context.env.args);
  // Check requested addresses before the first write, so a bad request changes nothing.
  context.pool.matchRequested(requested);
  await checkClusterOverlap(context.config, context.cluster, context.host);
  const attachment = attachmentOf(context.env);
  // Before the definition is recorded, so that a network the store cannot serve leaves nothing behind.
  const sticky = await stickyKey(context.config, context.cluster, attachment);
  if (sticky) attachment.sticky = sticky;
  await context.pool.checkDefinition();
  const allocations = await context.pool.allocate(attachment, requested);
  const addresses = allocations.map((allocation) => formatAddress(allocation.family, allocation.address));
  context.log.info({ addresses }, 'addresses allocated');
  return formatResult(context.config.cniVersion, resultOf(context, allocations));
}

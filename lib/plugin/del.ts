import { formatAddress } from '../ipam/address.js';
import { type CommandContext, attachmentOf } from './context.js';

/**
 * DEL: releases every address the attachment holds. Succeeds when it holds none, and needs
 * neither the network namespace nor prevResult, as the CNI specification asks.
 */
export async function del(context: CommandContext): Promise<undefined> {
  const released = await context.pool.release(attachmentOf(context.env));
  const addresses = released.map((allocation) => formatAddress(allocation.family, allocation.address));
  context.log.info({ addresses }, 'addresses released');
  return undefined;
}

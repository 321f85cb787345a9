import { InvalidConfigError, LeaseholdError, StoreUnavailableError } from '../errors.js';
import { formatAddress } from '../ipam/address.js';
import type { CommandContext } from './context.js';

/**
 * GC: releases every allocation of the network whose attachment is not in the runtime's list of
 * valid attachments. A failing shard does not stop the others; failures are reported at the end.
 */
export async function gc(context: CommandContext): Promise<undefined> {
  const netconf = context.config.netconf;
  const list = netconf['cni.dev/valid-attachments'] ?? netconf['cni.dev/attachments'];
  if (list === undefined) {
    // Without the list every allocation would look stale, so refuse rather than free them all.
    throw new InvalidConfigError([{ path: 'cni.dev/valid-attachments', message: 'missing: GC needs the list of valid attachments' }]);
  }
  const valid = new Set(list.map((entry) => `${entry.containerID}/${entry.ifname}`));
  const { released, failures } = await context.pool.garbageCollect(valid, context.config.gcMinAgeMs);
  const addresses = released.map((allocation) => formatAddress(allocation.family, allocation.address));
  context.log.info({ addresses, failures: failures.length }, 'garbage collection finished');
  // A damaged shard or refused credentials keep their own code: running GC again would not help.
  const lasting = failures.find((failure) => failure instanceof LeaseholdError && !(failure instanceof StoreUnavailableError));
  if (lasting) throw lasting;
  if (failures.length > 0) {
    const first = failures[0] as Error;
    throw new StoreUnavailableError(`GC released ${released.length} addresses but failed on ${failures.length} shards (first: ${first.message}); run GC again`, { cause: first });
  }
  return undefined;
}

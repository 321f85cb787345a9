import { CniCode, LeaseholdError } from '../errors.js';
import { formatAddress } from '../ipam/address.js';
import type { Owner } from '../ipam/shard.js';
import type { RequestedAddress } from '../config/load.js';

export function describeOwner(owner: Owner): string {
  const pod =
    owner.podNamespace && owner.podName ? `pod ${owner.podNamespace}/${owner.podName}, ` : '';
  return `${pod}container ${owner.containerId}, interface ${owner.ifName}`;
}

function requestedText(address: RequestedAddress): string {
  return `${formatAddress(address.family, address.value)} (${address.source})`;
}

export function addressInUse(network: string, address: RequestedAddress, owner: Owner): LeaseholdError {
  return new LeaseholdError(
    'ADDRESS_IN_USE',
    CniCode.ADDRESS_IN_USE,
    `requested address ${requestedText(address)} is in use on network "${network}" by ${describeOwner(owner)}; request a free address or release this one first`,
  );
}

export function addressNotAvailable(network: string, address: RequestedAddress, reason: string): LeaseholdError {
  return new LeaseholdError(
    'ADDRESS_NOT_AVAILABLE',
    CniCode.ADDRESS_NOT_IN_RANGE,
    `requested address ${requestedText(address)} cannot be handed out on network "${network}": ${reason}`,
  );
}

export function poolExhausted(network: string, setIndex: number, ranges: string): LeaseholdError {
  return new LeaseholdError(
    'POOL_EXHAUSTED',
    CniCode.POOL_EXHAUSTED,
    `no free address on network "${network}" in range set ${setIndex}: ${ranges} is fully allocated; release addresses (DEL or GC) or add a range to range set ${setIndex}`,
  );
}

export function shardTooLarge(network: string, address: RequestedAddress, key: string): LeaseholdError {
  return new LeaseholdError(
    'SHARD_TOO_LARGE',
    CniCode.ADDRESS_NOT_IN_RANGE,
    `requested address ${requestedText(address)} cannot be recorded on network "${network}": shard ${key} has no room for another owner record under the 1 MiB object limit; request an address in another block of 1024, or use shorter pod, namespace and node names`,
  );
}

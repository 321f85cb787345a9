import { createHash } from 'node:crypto';

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * Returns a DNS-1123 label for a network name: lowercase letters, digits and dashes, at most 40
 * characters of the name, then 80 bits of a hash of the exact name so that names differing only
 * in case or punctuation stay apart. Stores also record the exact name and check it, because a
 * colliding pair can still be searched for.
 */
export function networkSlug(network: string): string {
  const cleaned = network
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return `${cleaned || 'net'}-${shortHash(network, 20)}`;
}

/** Returns a file name for an attachment's hint, whose two parts may contain any character. */
export function attachmentSlug(containerId: string, ifName: string): string {
  return shortHash(`${containerId}\n${ifName}`, 32);
}

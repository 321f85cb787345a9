import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../lib/kube/client.js';
import { KubeStore } from '../../lib/kube/store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'leasehold-kube-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a store whose client points at a closed port, because these tests fail before any request. */
function storeWithCacheDir(cacheDir: string): KubeStore {
  const client = new KubeClient({
    server: new URL('https://127.0.0.1:1'),
    insecureSkipTlsVerify: true,
    source: 'test',
  });
  return new KubeStore({ client, namespace: 'leasehold', holder: 'node-1', cacheDir });
}

describe('KubeStore.lockShard', () => {
  it('reports an unusable state directory as code 5', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const locking = storeWithCacheDir(join(file, 'state')).lockShard('net', 'v4-0a000000-24-0');
    await expect(locking).rejects.toMatchObject({ code: 'STORE_IO_FAILED', cniCode: 5 });
    await expect(locking).rejects.toThrow(/state/);
  });
});

describe('KubeStore.ping', () => {
  it('fails on an unusable state directory', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const ping = storeWithCacheDir(join(file, 'state')).ping();
    await expect(ping).rejects.toMatchObject({ code: 'STORE_IO_FAILED', cniCode: 5 });
  });
});

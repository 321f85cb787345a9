import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { replaceFile } from '../../lib/install/files.js';

// A file system that runs out of space after a write has created its file.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      if (!String(args[0]).includes('full') || typeof args[1] !== 'number') return handle;
      handle.writeFile = async () => {
        await handle.write('part');
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
        });
      };
      return handle;
    },
  };
});

const dir = mkdtempSync(join(tmpdir(), 'leasehold-replace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replaceFile', () => {
  it('removes its temporary file when the write fails', async () => {
    await expect(replaceFile(join(dir, 'full', 'kubeconfig'), 'token', 0o600)).rejects.toThrow(
      'ENOSPC',
    );
    expect(readdirSync(join(dir, 'full'))).toEqual([]);
  });
});

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readHostConfig } from '../../lib/config/host.js';
import { connectionFromKubeconfig } from '../../lib/kube/connection.js';
import {
  entryPointScript,
  readServiceAccount,
  removeStaleTemporaries,
  renderHostConfig,
  renderKubeconfig,
  replaceFile,
} from '../../lib/install/files.js';

/** A self-signed certificate, only parsed here: the tests make no TLS connection with it. */
const CA_PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBjzCCATWgAwIBAgIUPJ1EizPhDjKcvUMQVYw+1id9JN8wCgYIKoZIzj0EAwIw',
  'HDEaMBgGA1UEAwwRbGVhc2Vob2xkLXRlc3QtY2EwIBcNMjYxMjA0MjAxODQxWhgP',
  'MjEyNjExMTAyMDE4NDFaMBwxGjAYBgNVBAMMEWxlYXNlaG9sZC10ZXN0LWNhMFkw',
  'EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOeZXUHybGWgugrMa5z88z2PeJIHrhJax',
  'q6Z48BbpIfjLtuia2JBUOthRqhmfxP5jWUopoUiKSg94rGIskMrwSaNTMFEwHQYD',
  'VR0OBBYEFH8Y+8eAGEWqYWLQupzRGih/aq7RMB8GA1UdIwQYMBaAFH8Y+8eAGEWq',
  'YWLQupzRGih/aq7RMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg',
  'FqK5z5TSR9Bnr2HI+dMLxQ2DpkvQxHx/ncpBip5oIRoCIQCPSF9+MEuzPBHp1EeU',
  'i8EMOlpjpbXAsgdI+RkYi7CR/A==',
  '-----END CERTIFICATE-----',
]
  .join('\n')
  .concat('\n');
const dir = mkdtempSync(join(tmpdir(), 'leasehold-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KUBERNETES = {
  namespace: 'leasehold',
  nodeName: 'node-1',
  serviceAccountDir: '/sa',
  apiServer: 'https://10.96.0.1:443',
  serviceCIDRs: ['10.96.0.0/12'],
  clusterCIDRs: [],
  stateDir: undefined,
};

/** Creates a ServiceAccount mount with the given token and CA files. */
function serviceAccountDir(name: string, token: string, ca: string): string {
  const account = join(dir, name);
  mkdirSync(account);
  writeFileSync(join(account, 'token'), token);
  writeFileSync(join(account, 'ca.crt'), ca);
  return account;
}

/** Writes the entry point into `bin`, beside a runtime that prints its arguments. */
function writeEntryPoint(bin: string): void {
  mkdirSync(join(bin, 'leasehold.d'), { recursive: true });
  writeFileSync(join(bin, 'leasehold.d', 'node'), '#!/bin/sh\necho "$@"\n');
  chmodSync(join(bin, 'leasehold.d', 'node'), 0o755);
  writeFileSync(join(bin, 'leasehold'), entryPointScript());
  chmodSync(join(bin, 'leasehold'), 0o755);
}

describe('installed files', () => {
  it('kubeconfig reads back as a connection', () => {
    const path = join(dir, 'kubeconfig');
    writeFileSync(
      path,
      renderKubeconfig('https://10.96.0.1:443', { token: 'secret', ca: Buffer.from('CA') }),
    );
    const connection = connectionFromKubeconfig(path);
    expect(connection.server.href).toBe('https://10.96.0.1/');
    expect(connection.token).toBe('secret');
    expect(connection.ca?.toString()).toBe('CA');
  });

  it('host configuration passes the plugin schema', () => {
    const path = join(dir, 'leasehold.conf');
    writeFileSync(
      path,
      renderHostConfig(KUBERNETES, '/etc/cni/net.d/leasehold.d/leasehold.kubeconfig'),
    );
    expect(readHostConfig({ LEASEHOLD_CONFIG_FILE: path })).toEqual({
      store: {
        type: 'kubernetes',
        kubeconfig: '/etc/cni/net.d/leasehold.d/leasehold.kubeconfig',
        namespace: 'leasehold',
      },
      nodeName: 'node-1',
      serviceCIDRs: ['10.96.0.0/12'],
    });
  });

  it('entry point runs the runtime beside it', () => {
    const bin = join(dir, 'bin');
    writeEntryPoint(bin);
    expect(execFileSync(join(bin, 'leasehold'), ['a b', 'c'], { encoding: 'utf8' })).toBe(
      `--use-openssl-ca ${bin}/leasehold.d/run.cjs a b c\n`,
    );
  });

  it('entry point runs through a symbolic link', () => {
    const bin = join(dir, 'linked', 'bin');
    const elsewhere = join(dir, 'linked', 'elsewhere');
    writeEntryPoint(bin);
    mkdirSync(elsewhere);
    symlinkSync(join(bin, 'leasehold'), join(elsewhere, 'absolute'));
    symlinkSync('absolute', join(elsewhere, 'relative'));
    for (const link of ['absolute', 'relative']) {
      const output = execFileSync(join(elsewhere, link), ['a'], { encoding: 'utf8', env: {} });
      expect(output).toBe(`--use-openssl-ca ${bin}/leasehold.d/run.cjs a\n`);
    }
  });

  it('readServiceAccount reads the token and CA', async () => {
    const account = serviceAccountDir('valid', 'secret\n', CA_PEM);
    const credentials = await readServiceAccount(account);
    expect(credentials.token).toBe('secret');
    expect(credentials.ca.toString()).toBe(CA_PEM);
  });

  it('readServiceAccount rejects an empty token', async () => {
    const account = serviceAccountDir('empty-token', ' \n', CA_PEM);
    await expect(readServiceAccount(account)).rejects.toThrow(`${account}/token is empty`);
  });

  it('readServiceAccount rejects a CA that is not PEM', async () => {
    const account = serviceAccountDir('bad-ca', 'secret', 'not a certificate\n');
    await expect(readServiceAccount(account)).rejects.toThrow(
      `${account}/ca.crt contains no PEM certificate`,
    );
  });

  it('replaceFile writes only changes', async () => {
    const path = join(dir, 'nested', 'file');
    expect(await replaceFile(path, 'one', 0o600)).toBe(true);
    expect(await replaceFile(path, 'one', 0o600)).toBe(false);
    expect(await replaceFile(path, 'two', 0o644)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('removeStaleTemporaries removes only old temporaries', async () => {
    const scratch = join(dir, 'temporaries');
    mkdirSync(scratch);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const files = {
      old: join(scratch, '.node.0123456789ab.tmp'),
      young: join(scratch, '.node.ba9876543210.tmp'),
      foreign: join(scratch, '.other.0123456789ab.tmp'),
      installed: join(scratch, 'node'),
    };
    for (const path of Object.values(files)) {
      writeFileSync(path, 'x');
      if (path !== files.young) utimesSync(path, hourAgo, hourAgo);
    }

    expect(await removeStaleTemporaries(scratch, ['node'])).toEqual([files.old]);
    expect(existsSync(files.old)).toBe(false);
    expect(existsSync(files.young)).toBe(true);
    expect(existsSync(files.foreign)).toBe(true);
    expect(existsSync(files.installed)).toBe(true);
  });

  it('removeStaleTemporaries skips a missing directory', async () => {
    expect(await removeStaleTemporaries(join(dir, 'absent'), ['node'])).toEqual([]);
  });
});

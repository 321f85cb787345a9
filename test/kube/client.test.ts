import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../lib/kube/client.js';
import { failureOf } from '../support/failure.js';

let server: Server | undefined;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** Starts an HTTP server on loopback that responds to each request with the next scripted reply. */
async function serve(replies: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | 'hang'>): Promise<KubeClient> {
  let next = 0;
  server = createServer((_request, response) => {
    const reply = replies[Math.min(next++, replies.length - 1)];
    if (reply === 'hang' || reply === undefined) return;
    response.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
    response.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return new KubeClient({ server: new URL(`http://127.0.0.1:${port}`), insecureSkipTlsVerify: false, source: 'test' }, 300);
}

describe('KubeClient', () => {
  it('retries a throttled request', async () => {
    const client = await serve([{ status: 429, headers: { 'Retry-After': '0' } }, { status: 200, body: { ok: true } }]);
    const response = await client.request<{ ok: boolean }>('GET', '/api/v1/x');
    expect(response.body.ok).toBe(true);
    expect(client.requests).toBe(2);
    client.close();
  });

  it('gives up on throttling with code 11', async () => {
    const client = await serve([{ status: 429, headers: { 'Retry-After': '0' }, body: { reason: 'TooManyRequests' } }]);
    const error = await failureOf(client.request('GET', '/api/v1/x'));
    expect(error.cniCode).toBe(11);
    expect(error.message).toContain('TooManyRequests');
    client.close();
  });

  it.each([
    [500, 11, 'STORE_UNAVAILABLE'],
    [503, 11, 'STORE_UNAVAILABLE'],
    [403, 5, 'STORE_FORBIDDEN'],
    [401, 5, 'STORE_FORBIDDEN'],
    [422, 5, 'STORE_REQUEST_FAILED'],
  ])('maps HTTP %i to code %i', async (status, cniCode, code) => {
    const client = await serve([{ status, body: { reason: 'Because', message: 'configmaps is forbidden', details: { causes: ['secret body text'] } } }]);
    const error = await failureOf(client.request('GET', '/api/v1/x'));
    expect(error.cniCode).toBe(cniCode);
    expect(error.code).toBe(code);
    expect(error.message).toContain('Because: configmaps is forbidden');
    expect(error.message).not.toContain('secret body text');
    client.close();
  });

  it('rejects a success that is not JSON', async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html>proxy</html>');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = new KubeClient({ server: new URL(`http://127.0.0.1:${port}`), insecureSkipTlsVerify: false, source: 'test' });
    const error = await failureOf(client.request('GET', '/api/v1/x'));
    expect(error.cniCode).toBe(11);
    expect(error.message).toContain('not JSON');
    client.close();
  });

  it('returns statuses the caller expects', async () => {
    const client = await serve([{ status: 409, body: { reason: 'Conflict' } }]);
    const response = await client.request('PUT', '/api/v1/x', { expect: [409] });
    expect(response.status).toBe(409);
    client.close();
  });

  it('times out a request that gets no answer', async () => {
    const client = await serve(['hang']);
    const error = await failureOf(client.request('GET', '/api/v1/x'));
    expect(error.cniCode).toBe(11);
    expect(error.message).toContain('no response within 300 ms');
    client.close();
  });

  it('reports a refused connection with code 11', async () => {
    const client = new KubeClient({ server: new URL('http://127.0.0.1:9'), insecureSkipTlsVerify: false, source: 'test' });
    const error = await failureOf(client.request('GET', '/api/v1/x'));
    expect(error.cniCode).toBe(11);
    expect(error.message).toContain('ECONNREFUSED');
    client.close();
  });
});

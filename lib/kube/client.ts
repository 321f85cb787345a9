import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { CniCode, LeaseholdError, StoreUnavailableError } from '../errors.js';
import type { KubeConnection } from './connection.js';

/** Time one API request may take before the call gives up with code 11. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** How often a throttled (429) request is retried before the call gives up with code 11. */
const MAX_THROTTLE_RETRIES = 3;

export interface Response<T> {
  status: number;
  body: T;
}

/** The parts of a Kubernetes Status object that messages use. */
export interface Status {
  kind?: string;
  reason?: string;
  message?: string;
}

export interface RequestOptions {
  body?: unknown;
  accept?: string;
  /** Statuses the caller handles itself; others become errors. 2xx are always accepted. */
  expect?: number[];
}

const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** Certificate problems do not pass by themselves, so they are not "try again later". */
function isCertificateError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && CERTIFICATE_ERRORS.has(error.code);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A small JSON client for the few Kubernetes API calls the plugin makes. It is used instead of
 * @kubernetes/client-node on the CNI path because that library takes longer to load than the
 * rest of the plugin takes to run (docs/benchmarks.md).
 */
export class KubeClient {
  /** Number of HTTP requests sent, for the benchmark and debug logs. */
  requests = 0;
  /** Body of the last response as text, for endpoints that do not return JSON. */
  lastText = '';
  private readonly agent: Agent | HttpAgent;

  /** The API server's address, which scopes node-local caches. */
  get server(): string {
    return this.connection.server.href;
  }

  constructor(
    private readonly connection: KubeConnection,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    const secure = connection.server.protocol === 'https:';
    this.agent = secure
      ? new Agent({
          keepAlive: true,
          maxSockets: 4,
          ...(connection.ca ? { ca: connection.ca } : {}),
          ...(connection.cert ? { cert: connection.cert } : {}),
          ...(connection.key ? { key: connection.key } : {}),
          rejectUnauthorized: !connection.insecureSkipTlsVerify,
        })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  /** Sends one request, and retries a 429 response after its Retry-After delay up to three times. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(method, path, options);
      if (response.status === 429 && attempt < MAX_THROTTLE_RETRIES) {
        await sleep(Math.min(response.retryAfterMs, 2_000));
        continue;
      }
      return this.check<T>(method, path, response, options.expect ?? []);
    }
  }

  private check<T>(method: string, path: string, response: { status: number; text: string }, expected: number[]): Response<T> {
    const { status, text } = response;
    this.lastText = text;
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status >= 200 && status < 300 && body === undefined && text !== '' && !text.startsWith('#')) {
      throw new StoreUnavailableError(`${method} ${path} on ${this.connection.server.host} returned a body that is not JSON; check that the server address in ${this.connection.source} is the API server`);
    }
    if ((status >= 200 && status < 300) || expected.includes(status)) return { status, body: body as T };
    const statusBody = body as Status | undefined;
    // The Status message names the verb, resource and namespace; the rest of the body is not quoted.
    const reason = statusBody?.reason ? `${statusBody.reason}${statusBody.message ? `: ${statusBody.message.slice(0, 300)}` : ''}` : `HTTP ${status}`;
    const what = `${method} ${path} on ${this.connection.server.host}`;
    if (status === 401 || status === 403) {
      throw new LeaseholdError('STORE_FORBIDDEN', CniCode.IO_FAILURE, `${what} was refused (${reason}): check the credentials in ${this.connection.source} and the RBAC rules in manifests/`);
    }
    if (status === 429 || status >= 500) {
      throw new StoreUnavailableError(`${what} failed (${reason}): the API server is overloaded or unavailable; retry`);
    }
    // The response body is not quoted: it may echo request content and can be large.
    throw new LeaseholdError('STORE_REQUEST_FAILED', CniCode.IO_FAILURE, `${what} failed (${reason})`);
  }

  private send(method: string, path: string, options: RequestOptions): Promise<{ status: number; text: string; retryAfterMs: number }> {
    this.requests++;
    const server = this.connection.server;
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { Accept: options.accept ?? 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (this.connection.token) headers.Authorization = `Bearer ${this.connection.token}`;
    const send = server.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        { protocol: server.protocol, hostname: server.hostname.replace(/^\[|\]$/g, ''), port: server.port, method, path: `${server.pathname.replace(/\/$/, '')}${path}`, headers, agent: this.agent, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const retryAfter = Number(res.headers['retry-after'] ?? 1);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), retryAfterMs: (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000 });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response within ${this.timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (isCertificateError(error)) {
          reject(new LeaseholdError('STORE_TLS_FAILED', CniCode.IO_FAILURE, `TLS with ${server.host} failed: ${error.message}; check the certificate authority and server address in ${this.connection.source}`, { cause: error }));
          return;
        }
        reject(new StoreUnavailableError(`${method} ${path} on ${server.host} failed: ${error.message}; check that the API server is reachable`, { cause: error }));
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

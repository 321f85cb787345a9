import { type Family, formatAddress, formatPrefix, parsePrefix } from '../ipam/address.js';
import { compareVersions } from './version.js';

export interface IpConfig {
  family: Family;
  address: bigint;
  prefixLength: number;
  gateway: bigint | undefined;
}

export interface Route {
  dst: string;
  gw?: string;
  /** Route attributes that spec version 1.1.0 added. */
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** What an IPAM plugin returns: addresses, routes and DNS, never interfaces. */
export interface IpamResult {
  ips: IpConfig[];
  routes: Route[];
  dns: Dns | undefined;
}

const ROUTE_ATTRIBUTES_SINCE = '1.1.0';

function routeFamily(route: Route): Family | undefined {
  return parsePrefix(route.dst)?.family;
}

function formatRoute(route: Route, version: string): Route {
  if (compareVersions(version, ROUTE_ATTRIBUTES_SINCE) >= 0) return { ...route };
  const plain: Route = { dst: route.dst };
  if (route.gw !== undefined) plain.gw = route.gw;
  return plain;
}

function isEmptyDns(dns: Dns | undefined): boolean {
  return dns === undefined || Object.keys(dns).length === 0;
}

/**
 * Formats a result in the layout of the requested spec version: `ip4`/`ip6` objects with their
 * own routes up to 0.2.0, `ips` with a `version` field in 0.3.x and 0.4.0, and `ips` without it
 * from 1.0.0.
 */
export function formatResult(version: string, result: IpamResult): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion: version };
  if (compareVersions(version, '0.3.0') < 0) {
    for (const family of [4, 6] as const) {
      const ip = result.ips.find((entry) => entry.family === family);
      if (!ip) continue;
      const block: Record<string, unknown> = { ip: formatPrefix(family, ip.address, ip.prefixLength) };
      if (ip.gateway !== undefined) block.gateway = formatAddress(family, ip.gateway);
      const routes = result.routes.filter((route) => routeFamily(route) === family);
      if (routes.length > 0) block.routes = routes.map((route) => formatRoute(route, version));
      out[`ip${family}`] = block;
    }
  } else {
    const withFamily = compareVersions(version, '1.0.0') < 0;
    out.ips = result.ips.map((ip) => {
      const entry: Record<string, unknown> = {};
      if (withFamily) entry.version = String(ip.family);
      entry.address = formatPrefix(ip.family, ip.address, ip.prefixLength);
      if (ip.gateway !== undefined) entry.gateway = formatAddress(ip.family, ip.gateway);
      return entry;
    });
    if (result.routes.length > 0) out.routes = result.routes.map((route) => formatRoute(route, version));
  }
  if (!isEmptyDns(result.dns)) out.dns = result.dns;
  return out;
}

// The host's routing and neighbour tables, as userspace tunnels need them
// (OVS's ovs-router and tnl-neigh-cache, which learn the same facts from the
// kernel): which interface and source address reach a tunnel's remote end,
// and the Ethernet address of the next hop. Answers are kept for a second;
// a missing neighbour makes the kernel resolve it (a datagram to the discard
// port starts its ARP), so a later lookup finds it.
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { ip4Text } from './tunnel.js';

export interface HostRoute {
  /** The interface the route leaves by. */
  readonly dev: string;
  /** Its preferred source address, as a number (0 when the kernel gives none). */
  readonly src: number;
  /** The next hop: the gateway, or the destination itself on a connected route. */
  readonly nexthop: number;
}

const TTL_MS = 1000;
const RESOLVE_EVERY_MS = 200;

const routes = new Map<number, { at: number; route: HostRoute | null }>();
const neighbours = new Map<string, { at: number; mac: string | null }>();
const resolving = new Map<number, number>();

function ipJson(args: readonly string[]): unknown[] {
  const r = spawnSync('ip', ['-j', ...args], { encoding: 'utf8', timeout: 2000 });
  if (r.status !== 0 || !r.stdout) return [];
  try {
    const v = JSON.parse(r.stdout) as unknown;
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const toNum = (s: unknown): number => {
  if (typeof s !== 'string') return 0;
  const p = s.split('.').map(Number);
  return p.length === 4 && p.every((x) => x >= 0 && x <= 255) ? ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0 : 0;
};

/** The route to `dst` (`ip route get`), or null when there is none. */
export function hostRoute(dst: number, now = Date.now()): HostRoute | null {
  const c = routes.get(dst);
  if (c && now - c.at < TTL_MS) return c.route;
  const [r] = ipJson(['route', 'get', ip4Text(dst)]) as Array<{ dev?: string; prefsrc?: string; gateway?: string }>;
  const route = r?.dev ? { dev: r.dev, src: toNum(r.prefsrc), nexthop: r.gateway ? toNum(r.gateway) : dst } : null;
  routes.set(dst, { at: now, route });
  return route;
}

/**
 * The Ethernet address of `ip` on `dev` from the kernel's neighbour table,
 * or null; when unknown (or failed), asks the kernel to resolve it.
 */
export function hostNeighbour(ip: number, dev: string, now = Date.now()): string | null {
  const k = `${dev}/${ip}`;
  const c = neighbours.get(k);
  if (c && c.mac && now - c.at < TTL_MS) return c.mac;
  const entries = ipJson(['neigh', 'show', ip4Text(ip), 'dev', dev]) as Array<{ lladdr?: string; state?: string[] }>;
  const ok = entries.find((e) => e.lladdr && !(e.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE'));
  const mac = ok?.lladdr?.toLowerCase() ?? null;
  neighbours.set(k, { at: now, mac });
  if (!mac) resolve(ip, now);
  return mac;
}

/** Makes the kernel ARP for `ip`: a one-byte datagram to its discard port (rate-limited). */
function resolve(ip: number, now: number): void {
  if (now - (resolving.get(ip) ?? 0) < RESOLVE_EVERY_MS) return;
  resolving.set(ip, now);
  const s = dgram.createSocket('udp4');
  s.on('error', () => s.close());
  s.send(Buffer.alloc(1), 9, ip4Text(ip), () => s.close());
}

/** Forgets what was learned (tests, or a route change). */
export function flushHostRoutes(): void {
  routes.clear();
  neighbours.clear();
}

// The host's routing and neighbour tables, as userspace tunnels need them
// (OVS's ovs-router and tnl-neigh-cache): which interface and source address
// reach a tunnel's remote end, and the Ethernet address of the next hop.
// Kernel answers come over rtnetlink (the native addon's routeGet and
// neighGet, microseconds on the main thread where spawning `ip` took
// milliseconds) and are kept for a second; a missing neighbour makes the kernel
// resolve it (a datagram to the discard port starts its ARP), so a later
// lookup finds it. OVS snoops ARP/ND replies to fill its neighbour cache;
// here the neighbours the switch used are recorded instead, next to the
// entries set by tnl/neigh/set, and ovs/route/add's user routes sit on top
// of the kernel's routes. Listings that only commands ask for (interface
// addresses, the route table for ovs/route/show) still read `ip -j`.
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { NUD, isNativeError, loadNative, type NeighbourAnswer, type RouteAnswer } from '../native/index.js';
import { ip4Text } from './tunnel.js';

export interface HostRoute {
  /** The interface the route leaves by. */
  readonly dev: string;
  /** Its preferred source address, as a number (0 when the kernel gives none). */
  readonly src: number;
  /** The next hop: the gateway, or the destination itself on a connected route. */
  readonly nexthop: number;
  /** The gateway, 0 on a connected route. */
  readonly gateway: number;
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

/** A route added with ovs/route/add (OVS's "User:" routes), IPv4 only here. */
export interface UserRoute {
  readonly prefix: number;
  readonly plen: number;
  /** The bridge (its local port) the route leaves by. */
  readonly dev: string;
  /** The gateway, 0 for none. */
  readonly gw: number;
  readonly mark: number;
  /** The address of `dev` on the route's subnet (or the gateway's), as OVS picks it. */
  readonly src: number;
}

const userRoutes: UserRoute[] = [];
const maskOf = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);

/** The IPv4 addresses of an interface, with their prefix lengths (`ip addr show`). */
export function interfaceAddresses(dev: string): Array<{ addr: number; plen: number }> {
  const [link] = ipJson(['-4', 'addr', 'show', 'dev', dev]) as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>;
  return (link?.addr_info ?? []).filter((a) => a.local).map((a) => ({ addr: toNum(a.local), plen: a.prefixlen ?? 32 }));
}

/** Every address of an interface, IPv4 and IPv6, as text (`ip addr show`); none when it is not a kernel interface. */
export function interfaceAddressTexts(dev: string): Array<{ family: 4 | 6; addr: string }> {
  const [link] = ipJson(['addr', 'show', 'dev', dev]) as Array<{ addr_info?: Array<{ family?: string; local?: string }> }>;
  return (link?.addr_info ?? []).flatMap((a) => {
    const v = a.local ? ip6Value(a.local) : null;
    return v === null ? [] : [{ family: a.family === 'inet' ? 4 as const : 6 as const, addr: ip6Text(v) }];
  });
}

/**
 * Adds a user route; as OVS, its source is the address of `dev` whose subnet
 * holds the destination (or the gateway, when there is one), longest first.
 * Returns false when `dev` has no such address (OVS's "Error while inserting route.").
 */
export function addUserRoute(prefix: number, plen: number, dev: string, gw = 0, mark = 0): boolean {
  const target = gw || prefix;
  let src: { addr: number; plen: number } | undefined;
  for (const a of interfaceAddresses(dev)) {
    if (((a.addr ^ target) & maskOf(a.plen)) === 0 && (!src || a.plen > src.plen)) src = a;
  }
  if (!src) return false;
  const net = (prefix & maskOf(plen)) >>> 0;
  deleteUserRoute(net, plen, mark);
  userRoutes.push({ prefix: net, plen, dev, gw, mark, src: src.addr });
  routes.clear();
  return true;
}

/** Removes a user route; false when there was none. */
export function deleteUserRoute(prefix: number, plen: number, mark = 0): boolean {
  const net = (prefix & maskOf(plen)) >>> 0;
  const i = userRoutes.findIndex((r) => r.prefix === net && r.plen === plen && r.mark === mark);
  if (i < 0) return false;
  userRoutes.splice(i, 1);
  routes.clear();
  return true;
}

/** The user routes, longest prefix first. */
export function listUserRoutes(): readonly UserRoute[] {
  return [...userRoutes].sort((a, b) => b.plen - a.plen || a.prefix - b.prefix);
}

function userRouteFor(dst: number, mark: number): UserRoute | undefined {
  return listUserRoutes().find((r) => r.mark === mark && ((dst ^ r.prefix) & maskOf(r.plen)) === 0);
}

/**
 * The route to `dst`, or null when there is none: a user route (ovs/route/add)
 * wins over the kernel's, except for the host's own addresses (OVS ranks its
 * cached local routes above user routes).
 */
export function hostRoute(dst: number, now = Date.now(), mark = 0): HostRoute | null {
  const c = mark === 0 ? routes.get(dst) : undefined;
  if (c && now - c.at < TTL_MS) return c.route;
  let route = kernelRoute(dst);
  const user = route?.dev === 'lo' ? undefined : userRouteFor(dst, mark);
  if (user) route = { dev: user.dev, src: user.src, nexthop: user.gw || dst, gateway: user.gw };
  if (mark === 0) routes.set(dst, { at: now, route });
  return route;
}

/** Whether an addon error means "the kernel said no" (it is up to the caller then); a missing addon is not one. */
const kernelRefused = (e: unknown): boolean => isNativeError(e) && e.code !== 'ENOSYS';

/** The kernel's route to `dst` (RTM_GETROUTE); null when it has none or refuses (prohibit, blackhole). */
function kernelRoute(dst: number): HostRoute | null {
  let r: RouteAnswer | null;
  try {
    r = loadNative().routeGet(ip4Text(dst));
  } catch (e) {
    if (kernelRefused(e)) return null;
    throw e;
  }
  if (!r?.dev) return null;
  // An IPv6 next hop of an IPv4 route (RTA_VIA) is no Ethernet neighbour here: the destination stays the next hop.
  const gateway = r.gateway !== null && isIPv4(r.gateway) ? toNum(r.gateway) : 0;
  return { dev: r.dev, src: toNum(r.prefsrc), nexthop: gateway || dst, gateway };
}

/**
 * The kernel's neighbour entry for `ip` on `dev` (RTM_GETNEIGH) when it is usable:
 * one `ip neigh show` would list (not NOARP-only, not NONE) with an address, neither FAILED nor INCOMPLETE.
 */
function kernelNeighbour(ip: string, dev: string): string | null {
  let n: NeighbourAnswer | null;
  try {
    const native = loadNative();
    n = native.neighGet(ip, native.linkIndex(dev));
  } catch (e) {
    if (kernelRefused(e)) return null; // e.g. ENODEV: `dev` is no kernel interface
    throw e;
  }
  if (!n?.mac || (n.state & 0xff & ~NUD.NOARP) === 0 || (n.state & (NUD.FAILED | NUD.INCOMPLETE)) !== 0) return null;
  return n.mac.toLowerCase();
}

/** One entry of the tunnel neighbour cache (OVS's tnl-neigh-cache), keyed by bridge and address. */
export interface TunnelNeighbour {
  /** The address as OVS prints it (dotted quad, or IPv6 text). */
  readonly ip: string;
  readonly mac: string;
  readonly bridge: string;
  /** When it goes stale (ms since the epoch). */
  readonly expires: number;
  /** Set by tnl/neigh/set rather than learned from the kernel. */
  readonly configured: boolean;
}

/** OVS's default and largest neighbour ages, in ms and seconds. */
export const NEIGH_DEFAULT_AGING_MS = 15 * 60 * 1000;
export const NEIGH_MAX_AGING_S = 3600;
let neighAgingMs = NEIGH_DEFAULT_AGING_MS;
const tunnelNeighbours = new Map<string, TunnelNeighbour>();

/** Records a neighbour for `bridge` (tnl/neigh/set, or a kernel answer the switch used). */
export function setTunnelNeighbour(bridge: string, ip: string, mac: string, configured = true, now = Date.now()): void {
  tunnelNeighbours.set(`${bridge}/${ip}`, { ip, mac: mac.toLowerCase(), bridge, expires: now + neighAgingMs, configured });
}

/** The neighbour cache, by address. */
export function listTunnelNeighbours(): TunnelNeighbour[] {
  return [...tunnelNeighbours.values()].sort((a, b) => (a.ip === b.ip ? (a.bridge < b.bridge ? -1 : 1) : a.ip < b.ip ? -1 : 1));
}

/** Empties the neighbour cache (tnl/neigh/flush); used next hops are learned again. */
export function flushTunnelNeighbours(): void {
  tunnelNeighbours.clear();
  neighbours.clear();
}

/** The neighbour age in ms (tnl/neigh/aging). */
export function tunnelNeighbourAging(): number {
  return neighAgingMs;
}

/** Sets the neighbour age; entries due later than now+age are brought forward, as OVS does. */
export function setTunnelNeighbourAging(ms: number, now = Date.now()): void {
  neighAgingMs = ms;
  for (const [k, e] of tunnelNeighbours) if (e.expires > now + ms) tunnelNeighbours.set(k, { ...e, expires: now + ms });
}

/**
 * The Ethernet address of `ip` on `dev`: a configured neighbour-cache entry
 * that has not aged out, else the kernel's neighbour table (recorded in the
 * cache, as OVS records the replies it snoops); when unknown, asks the
 * kernel to resolve it and returns null.
 */
export function hostNeighbour(ip: number, dev: string, now = Date.now()): string | null {
  const text = ip4Text(ip);
  const entry = tunnelNeighbours.get(`${dev}/${text}`);
  if (entry?.configured && entry.expires > now) return entry.mac;
  const k = `${dev}/${ip}`;
  const c = neighbours.get(k);
  if (c && c.mac && now - c.at < TTL_MS) return c.mac;
  const mac = kernelNeighbour(text, dev);
  neighbours.set(k, { at: now, mac });
  if (mac) setTunnelNeighbour(dev, text, mac, false, now);
  else resolve(ip, now);
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
  tunnelNeighbours.clear();
  userRoutes.length = 0;
  neighAgingMs = NEIGH_DEFAULT_AGING_MS;
}

/** A route of the kernel's main or local table as OVS caches it (its "Cached:" routes). */
export interface CachedRoute {
  /** Destination and gateway as OVS prints them; gw is '' when there is none. */
  readonly dst: string;
  readonly plen: number;
  readonly dev: string;
  readonly gw: string;
  readonly src: string;
  /** A route to one of the host's own addresses. */
  readonly local: boolean;
}

/** An address as a 128-bit number, IPv4 mapped into ::ffff:0:0/96 (as OVS keeps both). */
export function ip6Value(text: string): bigint | null {
  if (isIPv4(text)) return 0xffff00000000n | BigInt(toNum(text));
  if (!isIPv6(text)) return null;
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const words = (s: string): number[] => (s ? s.split(':').flatMap((w) => (w.includes('.') ? [toNum(w) >>> 16, toNum(w) & 0xffff] : [parseInt(w, 16)])) : []);
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.reduce((v, w) => (v << 16n) | BigInt(w), 0n);
}

/** A 128-bit address as OVS prints it: dotted quad when IPv4-mapped, else RFC 5952 text. */
export function ip6Text(v: bigint): string {
  if (v >> 32n === 0xffffn) return ip4Text(Number(v & 0xffffffffn));
  const w = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

const mask128 = (plen: number): bigint => (plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n));

/** The kernel's unicast and local routes (main, default and local tables) with OVS's choice of source address. */
export function kernelRouteTable(): CachedRoute[] {
  const out: CachedRoute[] = [];
  const addrs = new Map<string, Array<{ v: bigint; plen: number }>>();
  for (const link of ipJson(['addr', 'show']) as Array<{ ifname?: string; addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }> }>) {
    const list = (link.addr_info ?? []).flatMap((a) => {
      const v = a.local ? ip6Value(a.local) : null;
      return v === null ? [] : [{ v, plen: (a.prefixlen ?? 128) + (a.family === 'inet' ? 96 : 0) }];
    });
    if (link.ifname) addrs.set(link.ifname, list);
  }
  for (const family of ['-4', '-6']) {
    const rows = ipJson([family, 'route', 'show', 'table', 'all']) as Array<{ type?: string; dst?: string; gateway?: string; dev?: string; table?: string }>;
    for (const r of rows) {
      const type = r.type ?? 'unicast';
      if ((type !== 'unicast' && type !== 'local') || !r.dev || !r.dst) continue;
      if (r.table !== undefined && !['main', 'local', 'default'].includes(r.table)) continue;
      const v4 = family === '-4';
      const [dstText, plenText] = r.dst === 'default' ? [v4 ? '0.0.0.0' : '::', '0'] : r.dst.split('/');
      const dst = ip6Value(dstText!);
      if (dst === null) continue;
      const plen = Number(plenText ?? (v4 ? 32 : 128)) + (v4 ? 96 : 0);
      const gw = r.gateway ? ip6Value(r.gateway) : null;
      const target = gw ?? dst;
      let src: { v: bigint; plen: number } | undefined;
      for (const a of addrs.get(r.dev) ?? []) {
        if (v4 !== (a.v >> 32n === 0xffffn)) continue;
        const m = mask128(a.plen);
        if ((a.v & m) === (target & m) && (!src || a.plen > src.plen)) src = a;
      }
      if (!src) continue;
      out.push({ dst: ip6Text(dst), plen: plen - (v4 ? 96 : 0), dev: r.dev, gw: gw === null ? '' : ip6Text(gw), src: ip6Text(src.v), local: type === 'local' });
    }
  }
  return out;
}

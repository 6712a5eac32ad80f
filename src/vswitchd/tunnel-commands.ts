// The userspace-tunnel debugging commands of ovs-vswitchd: the neighbour
// cache (tnl/neigh/*, alias tnl/arp/*), the listening tunnel ports
// (tnl/ports/show) and the routing table (ovs/route/*), in OVS 3.1's output
// formats and error texts.

import { isIPv4 } from 'node:net';
import { UnixctlError, type UnixctlServer } from '../lib/unixctl.js';
import { tunnelDpName } from '../dpif/index.js';
import {
  NEIGH_MAX_AGING_S, TunnelNetdev, addUserRoute, deleteUserRoute, flushTunnelNeighbours, hostRoute, interfaceAddressTexts, ip4Text, ip6Text,
  ip6Value, kernelRouteTable, listTunnelNeighbours, listUserRoutes, parseIp4, setTunnelNeighbour, setTunnelNeighbourAging, tunnelNeighbourAging,
  type NetdevRegistry,
} from '../netdev/index.js';

export interface TunnelCommandContext {
  registry: NetdevRegistry;
  /** The datapath's ports (number and name), when the switch runs one. */
  datapathPorts?(): Iterable<{ readonly no: number; readonly name: string }>;
  /**
   * A neighbour or route changed (OVS's tnl_conf_seq): cached datapath flows
   * carry tunnel headers built from the old one and must be translated again.
   */
  tunnelConfigChanged?(): void;
}

/** OVS prints neighbour addresses in a column as wide as INET6_ADDRSTRLEN. */
const IP_COLUMN = 46;



/** `a.b.c.d/n` (or a bare address, /32) as OVS's ip_parse_cidr takes it, or null. */
function parseCidr4(text: string): { ip: number; plen: number } | null {
  const [addr, len, extra] = text.split('/');
  if (extra !== undefined) return null;
  const ip = parseIp4(addr ?? '');
  if (ip === null) return null;
  if (len === undefined) return { ip, plen: 32 };
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) return null;
  return { ip, plen: Number(len) };
}

/** `pkt_mark=N` (decimal, 0x hex or octal, as %i scans), or null. */
function parseMark(text: string): number | null {
  const m = /^pkt_mark=(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(text);
  if (!m) return null;
  const v = Number(m[1]!.startsWith('0') && !m[1]!.startsWith('0x') && m[1]!.length > 1 ? parseInt(m[1]!, 8) : m[1]);
  return v <= 0xffffffff ? v : null;
}

/** A MAC as OVS's eth_addr_from_string reads it (one or two hex digits a byte), in canonical text. */
function parseMacText(text: string): string | null {
  const m = /^([0-9a-fA-F]{1,2})(?::([0-9a-fA-F]{1,2})){5}$/.test(text) ? text.split(':') : null;
  return m ? m.map((b) => b.toLowerCase().padStart(2, '0')).join(':') : null;
}

function neighShow(): string {
  let out = 'IP                                            MAC                 Bridge\n';
  out += '==========================================================================\n';
  const now = Date.now();
  for (const n of listTunnelNeighbours()) {
    out += `${n.ip.padEnd(IP_COLUMN)}${n.mac}   ${n.bridge}${n.expires <= now ? ' STALE' : ''}\n`;
  }
  return out;
}

function neighSet(args: string[]): string {
  const [bridge, ipText, macText] = args as [string, string, string];
  const v = ip6Value(ipText);
  if (v === null) throw new UnixctlError('bad IP address');
  const mac = parseMacText(macText);
  if (!mac) throw new UnixctlError('bad MAC address');
  setTunnelNeighbour(bridge, ip6Text(v), mac);
  return 'OK';
}

function neighAging(args: string[]): string {
  if (args.length === 0) return String(Math.floor(tunnelNeighbourAging() / 1000));
  const secs = /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
  if (!(secs >= 1 && secs <= NEIGH_MAX_AGING_S)) throw new UnixctlError('bad aging value');
  setTunnelNeighbourAging(secs * 1000);
  return 'OK';
}

/** Tunnel ports sharing each datapath port, by its name (OVS's ref_cnt). */
function tunnelUsers(registry: NetdevRegistry): Map<string, TunnelNetdev[]> {
  const users = new Map<string, TunnelNetdev[]>();
  for (const d of registry.openDevices()) {
    if (!(d instanceof TunnelNetdev)) continue;
    const name = tunnelDpName(d.kind, d.dstPort);
    users.set(name, [...(users.get(name) ?? []), d]);
  }
  return users;
}

/**
 * tnl/ports/show: one line per shared tunnel datapath port, newest first as
 * OVS lists them; with -v, the packets each one takes: for every address of
 * each local (bridge) port, the tunnel protocol and port sent to it.
 */
function portsShow(ctx: TunnelCommandContext, args: string[]): string {
  let out = 'Listening ports:\n';
  const users = tunnelUsers(ctx.registry);
  const dpPorts = [...(ctx.datapathPorts?.() ?? [])].sort((a, b) => b.no - a.no);
  const tunnels = dpPorts.filter((p) => users.has(p.name));
  if (args[0]?.toLowerCase() !== '-v') {
    for (const p of tunnels) out += `${p.name} (${p.no}) ref_cnt=${users.get(p.name)!.length}\n`;
    return out;
  }
  // OVS's "ip devices": every other datapath port with addresses, each address taking the tunnel's packets.
  const ipDevs = dpPorts.filter((p) => !users.has(p.name)).flatMap((p) => {
    const dev = ctx.registry.byName(p.name);
    return dev ? [{ mac: dev.getMac(), addrs: interfaceAddressTexts(p.name) }] : [];
  });
  for (const p of tunnels) {
    const t = users.get(p.name)![0]!;
    const l4 = t.kind === 'gre' ? '' : `,udp(dst=${t.dstPort})`;
    const proto = t.kind === 'gre' ? 47 : 17;
    for (const d of ipDevs) {
      for (const a of d.addrs) {
        const l3 = a.family === 4 ? `eth_type(0x0800),ipv4(dst=${a.addr}` : `eth_type(0x86dd),ipv6(dst=${a.addr}`;
        out += `${p.name} (${p.no}) : eth(dst=${d.mac}),${l3},proto=${proto},frag=no)${l4}\n`;
      }
    }
  }
  return out;
}

function routeShow(): string {
  const out = 'Route Table:\n';
  const line = (kind: string, dst: string, plen: number, mark: number, dev: string, gw: string, src: string, local: boolean): string =>
    `${kind}: ${dst}/${plen}${mark ? ` MARK ${mark}` : ''} dev ${dev}${gw ? ` GW ${gw}` : ''} SRC ${src}${local ? ' local' : ''}\n`;
  // OVS lists its classifier by priority: local routes (plen+64), then user (plen+32), then the rest.
  const rows: Array<{ prio: number; text: string }> = [];
  for (const r of kernelRouteTable()) {
    const plen128 = r.plen + (isIPv4(r.dst) ? 96 : 0);
    rows.push({ prio: plen128 + (r.local ? 64 : 0), text: line('Cached', r.dst, r.plen, 0, r.dev, r.gw, r.src, r.local) });
  }
  for (const r of listUserRoutes()) {
    rows.push({ prio: r.plen + 96 + 32, text: line('User', ip4Text(r.prefix), r.plen, r.mark, r.dev, r.gw ? ip4Text(r.gw) : '', ip4Text(r.src), false) });
  }
  rows.sort((a, b) => b.prio - a.prio);
  return out + rows.map((r) => r.text).join('');
}

function routeAdd(args: string[]): string {
  const route = parseCidr4(args[0]!);
  if (!route) throw new UnixctlError('Invalid parameters');
  let gw = 0;
  let mark = 0;
  if (args.length > 2) {
    const m = parseMark(args[2]!);
    const g = parseIp4(args[2]!);
    if (m === null && g === null) throw new UnixctlError('Invalid pkt_mark or gateway');
    if (m !== null) mark = m;
    else gw = g!;
  }
  if (args.length > 3) {
    const m = parseMark(args[3]!);
    if (m === null) throw new UnixctlError('Invalid pkt_mark');
    mark = m;
  }
  if (!addUserRoute(route.ip, route.plen, args[1]!, gw, mark)) throw new UnixctlError('Error while inserting route.');
  return 'OK';
}

function routeDel(args: string[]): string {
  const route = parseCidr4(args[0]!);
  if (!route) throw new UnixctlError('Invalid parameters');
  let mark = 0;
  if (args.length > 1) {
    const m = parseMark(args[1]!);
    if (m === null) throw new UnixctlError('Invalid pkt_mark');
    mark = m;
  }
  if (!deleteUserRoute(route.ip, route.plen, mark)) throw new UnixctlError('Not found');
  return 'OK';
}

function routeLookup(args: string[]): string {
  const route = parseCidr4(args[0]!);
  if (!route || route.plen !== 32) throw new UnixctlError('Invalid parameters');
  let mark = 0;
  if (args.length > 1) {
    const m = parseMark(args[1]!);
    if (m === null) throw new UnixctlError('Invalid pkt_mark');
    mark = m;
  }
  const r = hostRoute(route.ip, Date.now(), mark);
  if (!r || !r.src) throw new UnixctlError('Not found');
  return `src ${ip4Text(r.src)}\ngateway ${r.gateway ? ip4Text(r.gateway) : '::'}\ndev ${r.dev}\n`;
}

export function registerTunnelCommands(ctl: UnixctlServer, ctx: TunnelCommandContext): void {
  const changing = (f: (args: string[]) => string) => (args: string[]): string => {
    const reply = f(args);
    ctx.tunnelConfigChanged?.();
    return reply;
  };
  for (const prefix of ['tnl/neigh', 'tnl/arp']) {
    ctl.register(`${prefix}/show`, '', 0, 0, () => neighShow());
    ctl.register(`${prefix}/set`, 'BRIDGE IP MAC', 3, 3, changing(neighSet));
    ctl.register(`${prefix}/flush`, '', 0, 0, changing(() => { flushTunnelNeighbours(); return 'OK'; }));
    ctl.register(`${prefix}/aging`, '[SECS]', 0, 1, (args) => (args.length ? changing(neighAging)(args) : neighAging(args)));
  }
  ctl.register('tnl/ports/show', '-v', 0, 1, (args) => portsShow(ctx, args));
  ctl.register('ovs/route/add', 'ip_addr/prefix_len out_br_name [gw] [pkt_mark=mark]', 2, 4, changing(routeAdd));
  ctl.register('ovs/route/show', '', 0, 0, () => routeShow());
  ctl.register('ovs/route/del', 'ip_addr/prefix_len [pkt_mark=mark]', 1, 2, changing(routeDel));
  ctl.register('ovs/route/lookup', 'ip_addr [pkt_mark=mark]', 1, 2, (args) => routeLookup(args));
}

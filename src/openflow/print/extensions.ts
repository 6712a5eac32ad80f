// Nicira/ONF extension messages and flow monitoring, in the words and layout
// of OVS's ofp-print: the TLV table, conntrack flushes, flow monitor requests
// and updates (OF1.0 Nicira, OF1.3 ONF and OF1.4+ standard forms), OF1.0
// groups and IPFIX statistics.

import type { Action, Instruction, Match } from '../index.js';
import type { PrintOptions } from './body.js';
import { mfFromHeader } from './mff.js';
import { tlvMappingsProblem } from '../tlv-table.js';
import { PrintError, bitNames, hex, portName, u64 } from './util.js';

// ---------------------------------------------------------------- TLV table

interface TlvMapLike { option_class: number; option_type: number; option_len: number; index: number }

/** printf's %#x: "0" for zero, else 0x and the hex digits. */
function altHex(n: number): string {
  return n === 0 ? '0' : '0x' + n.toString(16);
}

function tlvTable(maps: readonly TlvMapLike[]): string {
  let s = ' mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------';
  for (const m of maps) {
    s += `\n ${altHex(m.option_class).padStart(6)}  ${altHex(m.option_type).padStart(4)}  ${String(m.option_len).padStart(6)}  tun_metadata${m.index}`;
  }
  return s;
}

export function tlvTableMod(command: number, maps: readonly TlvMapLike[]): string {
  const bad = tlvMappingsProblem(maps);
  if (bad) throw new PrintError(bad.error);
  const name = ['ADD', 'DEL', 'CLEAR'][command] ?? '';
  return `\n ${name}` + (command === 2 ? '' : tlvTable(maps));
}

export function tlvTableReply(maxSpace: number, maxFields: number, maps: readonly TlvMapLike[]): string {
  const bad = tlvMappingsProblem(maps, maxFields);
  if (bad) throw new PrintError(bad.error);
  const used = maps.reduce((n, m) => n + m.option_len, 0);
  return `\n max option space=${maxSpace} max fields=${maxFields}\n allocated option space=${used}\n\n` + tlvTable(maps);
}

// ---------------------------------------------------------------- conntrack flush

interface CtTupleLike { type: number; addr?: Uint8Array; port?: number; value?: number }

/** ipv6_format_mapped: IPv4-mapped addresses as dotted quads, others as IPv6 text. */
function mappedAddr(b: Uint8Array): string {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  // The longest run (two or more) of zero words becomes "::", as inet_ntop writes it.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexw = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hexw(words);
  return hexw(words.slice(0, best)) + '::' + hexw(words.slice(best + bestLen));
}

export function ctFlush(ipProto: number, props: readonly { type: number; tuple?: readonly CtTupleLike[]; zone_id?: number }[]): string {
  let zone = 0;
  const tuples: CtTupleLike[][] = [[], []];
  for (const p of props) {
    if ((p.type === 0 || p.type === 1) && p.tuple) tuples[p.type] = [...p.tuple];
    if (p.type === 2 && p.zone_id !== undefined) zone = p.zone_id;
  }
  const zero = new Uint8Array(16);
  let l3: 'v4' | 'v6' | undefined;
  for (const t of tuples) {
    for (const q of t) {
      if ((q.type === 0 || q.type === 1) && q.addr && q.addr.some((x) => x)) {
        const b = q.addr;
        l3 = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? 'v4' : 'v6';
      }
    }
  }
  const icmp = ipProto === 1 || ipProto === 58;
  const fmt = (t: CtTupleLike[]) => {
    const get = (type: number) => t.find((q) => q.type === type);
    const v4 = l3 === 'v4';
    let s = (v4 ? 'ct_nw_src=' : 'ct_ipv6_src=') + mappedAddr(get(0)?.addr ?? zero);
    s += (v4 ? ',ct_nw_dst=' : ',ct_ipv6_dst=') + mappedAddr(get(1)?.addr ?? zero);
    if (icmp) s += `,icmp_id=${get(4)?.port ?? 0},icmp_type=${get(5)?.value ?? 0},icmp_code=${get(6)?.value ?? 0}`;
    else s += `,ct_tp_src=${get(2)?.port ?? 0},ct_tp_dst=${get(3)?.port ?? 0}`;
    return s;
  };
  return ` zone=${zone} '${fmt(tuples[0])},ct_nw_proto=${ipProto}' '${fmt(tuples[1])}'`;
}

// ---------------------------------------------------------------- flow monitor

const MONITOR_FLAGS = ['initial', 'add', 'delete', 'modify', 'actions', 'no-abbrev', 'own'];

/** Nicira/ONF NXFMF_* flags in the OF1.4 OFPFMF_* bit positions OVS prints from. */
export function nxMonitorFlags(nx: number): number {
  return (nx & 0x1f) | (nx & 0x20 ? 0x40 : 0);
}

export interface MonitorRequestLike {
  id: number; command: number; flags: number; out_port: number; out_group: number; table_id: number; match: Match;
}

/** ofputil_flow_monitor_request_format; `out_port` already in the 16-bit port space. */
export function monitorRequest(r: MonitorRequestLike, v: number, opts: PrintOptions): string {
  if (r.command === 2) return `\n id=${r.id} command=delete`;
  let s = `\n id=${r.id} flags=` + bitNames(r.flags, (bit) => MONITOR_FLAGS[31 - Math.clz32(bit)], ',');
  if (r.out_port !== 0xffff) s += ` out_port=${portName(r.out_port, 1)}`;
  if (r.out_group && r.out_group !== 0xffffffff) s += ` out_group=${r.out_group | 0}`;
  if (r.table_id !== 0xff) s += ` table=${r.table_id}`;
  const m = opts.flow.match(r.match, 0x8000, v);
  return m ? s + ' ' + m : s;
}

export interface UpdateLike {
  event: number; reason?: number; table_id?: number; idle_timeout?: number; hard_timeout?: number; cookie?: bigint; match?: Match;
  xid?: number; actions?: readonly Action[]; instructions?: readonly Instruction[];
}

/** ofputil_flow_update_format; `event` in the OF1.4 OFPFME_* numbering. */
export function flowUpdate(u: UpdateLike, v: number, opts: PrintOptions, removedReason: (r: number) => string): string {
  let s = '\n event=';
  switch (u.event) {
    case 0: s += 'INITIAL'; break;
    case 1: s += 'ADDED'; break;
    case 2: s += `DELETED reason=${removedReason(u.reason ?? 0)}`; break;
    case 3: s += 'MODIFIED'; break;
    case 4: return s + `ABBREV xid=0x${(u.xid ?? 0).toString(16)}`;
    case 5: return s + 'PAUSED';
    case 6: return s + 'RESUMED';
    default: return s;
  }
  s += ` table=${u.table_id ?? 0}`;
  if (u.idle_timeout) s += ` idle_timeout=${u.idle_timeout}`;
  if (u.hard_timeout) s += ` hard_timeout=${u.hard_timeout}`;
  s += ` cookie=${u.cookie ? hex(u.cookie) : '0'}`;
  s += ' ' + opts.flow.match(u.match ?? {}, 0x8000, v);
  const has = u.instructions ? u.instructions.length > 0 : (u.actions?.length ?? 0) > 0;
  if (has) {
    if (!s.endsWith(' ')) s += ' ';
    s += 'actions=' + (u.instructions ? opts.flow.instructions(u.instructions, v) : opts.flow.actions(u.actions ?? [], v));
  }
  return s;
}

/** NX/ONF update events (ADDED 0, DELETED 1, MODIFIED 2, ABBREV 3) as OF1.4 ones. */
export function nxEvent(e: number): number {
  return [1, 2, 3, 4][e] ?? e;
}

// ---------------------------------------------------------------- IPFIX

interface IpfixLike {
  total_flows: bigint; current_flows: bigint; pkts: bigint; ipv4_pkts: bigint; ipv6_pkts: bigint; error_pkts: bigint;
  ipv4_error_pkts: bigint; ipv6_error_pkts: bigint; tx_pkts: bigint; tx_errors: bigint; collector_set_id: number;
}

function ipfixStat(leader: string, n: bigint, more: boolean): string {
  return leader + (BigInt.asUintN(64, n) === 0xffffffffffffffffn ? '?' : u64(n)) + (more ? ', ' : '\n');
}

function ipfix(i: IpfixLike, indent: number): string {
  return ipfixStat('flows=', i.total_flows, true) + ipfixStat('current flows=', i.current_flows, true)
    + ipfixStat('sampled pkts=', i.pkts, true) + ipfixStat('ipv4 ok=', i.ipv4_pkts, true) + ipfixStat('ipv6 ok=', i.ipv6_pkts, true)
    + ipfixStat('tx pkts=', i.tx_pkts, false) + ' '.repeat(indent)
    + ipfixStat('pkts errs=', i.error_pkts, true) + ipfixStat('ipv4 errs=', i.ipv4_error_pkts, true)
    + ipfixStat('ipv6 errs=', i.ipv6_error_pkts, true) + ipfixStat('tx errs=', i.tx_errors, false);
}

export function ipfixBridge(entries: readonly IpfixLike[]): string {
  return entries.map((e) => '\n  bridge ipfix: ' + ipfix(e, 16)).join('');
}

export function ipfixFlow(entries: readonly IpfixLike[]): string {
  return ` ${entries.length} ids\n` + entries.map((e) => `  id ${String(e.collector_set_id).padStart(3)}: ` + ipfix(e, 10)).join('');
}


// ---------------------------------------------------------------- group properties

/** OF1.5 group properties: Netronome's selection method (",selection_method=hash,fields(ip_src,nw_proto)"). */
export function groupProperties(props: readonly { type: number; data?: Uint8Array }[]): string {
  let s = '';
  for (const p of props) {
    const d = p.data;
    if (p.type !== 0xffff || !d || d.length < 36) continue;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (dv.getUint32(0) !== 0x0000154d || dv.getUint32(4) !== 1) continue;
    let method = '';
    for (let i = 12; i < 28 && d[i]; i++) method += String.fromCharCode(d[i]);
    if (!method) continue;
    s += `,selection_method=${method}`;
    const param = dv.getBigUint64(28);
    if (param) s += `,selection_method_param=${param}`;
    const found: { id: number; text: string }[] = [];
    for (let i = 36; i + 4 <= d.length;) {
      const h = dv.getUint32(i);
      const cls = h >>> 16;
      const len = h & 0xff;
      let exp: number | undefined;
      let at = i + 4;
      if (cls === 0xffff && at + 4 <= d.length) { exp = dv.getUint32(at); at += 4; }
      const vlen = cls === 0xffff ? len - 4 : len;
      if (h === 0 || vlen < 0 || at + vlen > d.length) break;
      const f = mfFromHeader(cls, (h >>> 9) & 0x7f, exp);
      const value = d.subarray(at, at + vlen);
      if (f) {
        const allOnes = value.every((x) => x === 0xff);
        found.push({ id: f.id, text: f.name + (allOnes ? '' : '=0x' + [...value].map((x) => x.toString(16).padStart(2, '0')).join('').replace(/^0+(?=.)/, '')) });
      }
      i = at + vlen;
    }
    found.sort((a, b) => a.id - b.id);
    if (found.length === 1) s += `,fields=${found[0].text}`;
    else if (found.length > 1) s += `,fields(${found.map((x) => x.text).join(',')})`;
  }
  return s;
}

// ---------------------------------------------------------------- Intel port statistics properties

const RFC2819 = [
  'rx_1_to_64_packets', 'rx_65_to_127_packets', 'rx_128_to_255_packets', 'rx_256_to_511_packets', 'rx_512_to_1023_packets',
  'rx_1024_to_1522_packets', 'rx_1523_to_max_packets', 'tx_1_to_64_packets', 'tx_65_to_127_packets', 'tx_128_to_255_packets',
  'tx_256_to_511_packets', 'tx_512_to_1023_packets', 'tx_1024_to_1522_packets', 'tx_1523_to_max_packets', 'tx_multicast_packets',
  'rx_broadcast_packets', 'tx_broadcast_packets', 'rx_undersized_errors', 'rx_oversize_errors', 'rx_fragmented_errors', 'rx_jabber_errors',
];
const RX_LABELS: [string, string][] = [
  ['rx_1_to_64_packets', '1_to_64_packets='], ['rx_65_to_127_packets', '65_to_127_packets='], ['rx_128_to_255_packets', '128_to_255_packets='],
  ['rx_256_to_511_packets', '256_to_511_packets='], ['rx_512_to_1023_packets', '512_to_1023_packets='],
  ['rx_1024_to_1522_packets', '1024_to_1522_packets='], ['rx_1523_to_max_packets', '1523_to_max_packets='],
  ['rx_broadcast_packets', 'broadcast_packets='], ['rx_undersized_errors', 'undersized_errors='], ['rx_oversize_errors', 'oversize_errors='],
  ['rx_fragmented_errors', 'rx_fragmented_errors='], ['rx_jabber_errors', 'rx_jabber_errors='],
];
const TX_LABELS: [string, string][] = [
  ['tx_1_to_64_packets', '1_to_64_packets='], ['tx_65_to_127_packets', '65_to_127_packets='], ['tx_128_to_255_packets', '128_to_255_packets='],
  ['tx_256_to_511_packets', '256_to_511_packets='], ['tx_512_to_1023_packets', '512_to_1023_packets='],
  ['tx_1024_to_1522_packets', '1024_to_1522_packets='], ['tx_1523_to_max_packets', '1523_to_max_packets='],
  ['tx_multicast_packets', 'multicast_packets='], ['tx_broadcast_packets', 'broadcast_packets='],
];

/** The lines OVS prints after a port's counters for Intel's RFC 2819 and custom statistics properties. */
export function portStatsExtras(props: readonly { type: number; data?: Uint8Array }[]): string {
  const rfc = new Map<string, bigint>();
  const custom: [string, bigint][] = [];
  for (const p of props) {
    const d = p.data;
    if (p.type !== 0xffff || !d || d.length < 8) continue;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    if (dv.getUint32(0) !== 0xaa01) continue;
    const t = dv.getUint32(4);
    if (t === 1 && d.length >= 12 + 8 * RFC2819.length) {
      RFC2819.forEach((n, i) => rfc.set(n, dv.getBigUint64(12 + 8 * i)));
    } else if (t === 2 && d.length >= 12) {
      const n = dv.getUint16(10);
      let at = 12;
      for (let i = 0; i < n && at < d.length; i++) {
        const len = d[at++];
        if (at + len + 8 > d.length) break;
        const name = String.fromCharCode(...d.subarray(at, at + Math.min(len, 31)));
        at += len;
        custom.push([name, dv.getBigUint64(at)]);
        at += 8;
      }
    }
  }
  let s = '';
  const cond = (labels: [string, string][]) => labels
    .filter(([k]) => rfc.has(k) && rfc.get(k) !== 0xffffffffffffffffn).map(([k, l]) => `${l}${rfc.get(k)}, `).join('');
  const rx = cond(RX_LABELS);
  if (rx) s += `           rx rfc2819 ${rx}\n`;
  const tx = cond(TX_LABELS);
  if (tx) s += `           tx rfc2819 ${tx}\n`;
  if (custom.length) {
    s += '           CUSTOM Statistics';
    custom.forEach(([name, value], i) => {
      if (!name) return;
      s += i % 3 === 0 ? '\n                      ' : ' ';
      s += `${name}=${value},`;
    });
    s += '\n';
  }
  return s;
}

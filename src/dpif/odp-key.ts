// A megaflow's key and mask in OVS's ODP syntax, as `ovs-appctl
// dpctl/dump-flows` prints them: attributes in the datapath's order
// (recirc_id, in_port, packet_type, eth, vlan/encap, eth_type, L3, L4),
// fully wildcarded attributes left out and partly masked fields printed as
// value/mask; `verbose` (-m) prints every attribute with its mask. The same
// attribute printers serve the masked set actions.

import { DP_KEY_WORDS, K, altHex, ip4Text, ip6Text, macText } from './words.js';

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_MPLS = 0x8847;
const ETH_MPLSM = 0x8848;
const ETH_NSH = 0x894f;
const CFI = 0x1000;

type Fmt = 'eth' | 'ip4' | 'ip6' | 'u8u' | 'u8x' | 'be16' | 'be16x' | 'hex' | 'label' | 'frag';

/** A field inside an ODP attribute: its label, printer, first word, and the mask of a fully exact field. */
interface AttrField { readonly label: string; readonly fmt: Fmt; readonly word: number; readonly full: number }

const f = (label: string, fmt: Fmt, word: number, full: number): AttrField => ({ label, fmt, word, full });

export const ATTRS = {
  eth: [f('src', 'eth', K.ethSrc, 0), f('dst', 'eth', K.ethDst, 0)],
  ipv4: [f('src', 'ip4', K.ipSrc, 0xffffffff), f('dst', 'ip4', K.ipDst, 0xffffffff), f('proto', 'u8u', K.nwProto, 0xff),
    f('tos', 'u8x', K.ipTos, 0xff), f('ttl', 'u8u', K.nwTtl, 0xff), f('frag', 'frag', K.ipFrag, 3)],
  ipv6: [f('src', 'ip6', K.ipv6Src, 0), f('dst', 'ip6', K.ipv6Dst, 0), f('label', 'label', K.ipv6Label, 0xfffff),
    f('proto', 'u8u', K.nwProto, 0xff), f('tclass', 'u8x', K.ipTos, 0xff), f('hlimit', 'u8u', K.nwTtl, 0xff),
    f('frag', 'frag', K.ipFrag, 3)],
  arp: [f('sip', 'ip4', K.arpSpa, 0xffffffff), f('tip', 'ip4', K.arpTpa, 0xffffffff), f('op', 'be16', K.arpOp, 0xffff),
    f('sha', 'eth', K.arpSha, 0), f('tha', 'eth', K.arpTha, 0)],
  tcp: [f('src', 'be16', K.tcpSrc, 0xffff), f('dst', 'be16', K.tcpDst, 0xffff)],
  udp: [f('src', 'be16', K.udpSrc, 0xffff), f('dst', 'be16', K.udpDst, 0xffff)],
  sctp: [f('src', 'be16', K.sctpSrc, 0xffff), f('dst', 'be16', K.sctpDst, 0xffff)],
  icmp: [f('type', 'u8u', K.icmpType, 0xff), f('code', 'u8u', K.icmpCode, 0xff)],
  icmpv6: [f('type', 'u8u', K.icmpv6Type, 0xff), f('code', 'u8u', K.icmpv6Code, 0xff)],
  nd: [f('target', 'ip6', K.ndTarget, 0), f('sll', 'eth', K.ndSll, 0), f('tll', 'eth', K.ndTll, 0)],
  nd_ext: [f('nd_reserved', 'hex', K.ndReserved, 0xffffffff), f('nd_options_type', 'u8u', K.ndOptionsType, 0xff)],
  nsh: [f('flags', 'u8u', K.nshFlags, 0xff), f('ttl', 'u8u', K.nshTtl, 0x3f), f('mdtype', 'u8u', K.nshMdtype, 0xff),
    f('np', 'u8u', K.nshNp, 0xff), f('spi', 'hex', K.nshSpi, 0xffffff), f('si', 'u8u', K.nshSi, 0xff),
    ...[0, 1, 2, 3].map((c) => f(`c${c + 1}`, 'hex', K.nshC1 + c, 0xffffffff))],
} as const satisfies Record<string, readonly AttrField[]>;

export type AttrName = keyof typeof ATTRS | 'mpls';

const WIDTH: Readonly<Record<Fmt, number>> = { eth: 2, ip6: 4, ip4: 1, u8u: 1, u8x: 1, be16: 1, be16x: 1, hex: 1, label: 1, frag: 1 };

function fieldMaskZero(mask: Uint32Array, fd: AttrField): boolean {
  for (let i = 0; i < WIDTH[fd.fmt]; i++) if (mask[fd.word + i]) return false;
  return true;
}

function fieldMaskFull(mask: Uint32Array, fd: AttrField): boolean {
  if (fd.fmt === 'eth') return mask[fd.word] === 0xffff && mask[fd.word + 1] === 0xffffffff;
  if (fd.fmt === 'ip6') return mask[fd.word] === 0xffffffff && mask[fd.word + 1] === 0xffffffff && mask[fd.word + 2] === 0xffffffff && mask[fd.word + 3] === 0xffffffff;
  if (fd.fmt === 'label') return (mask[fd.word]! & 0xfffff) === 0xfffff;
  return mask[fd.word] === fd.full;
}

const FRAG_TEXT = ['no', 'first', 'first', 'later'];

function formatField(fd: AttrField, key: Uint32Array, mask: Uint32Array, verbose: boolean): string {
  const empty = fieldMaskZero(mask, fd);
  if (fd.fmt === 'frag') {
    if (empty) return '';
    if (!fieldMaskFull(mask, fd)) return `error: partial mask not supported for frag (${altHex(mask[fd.word]!)}),`;
    return `${fd.label}=${FRAG_TEXT[key[fd.word]! & 3]},`;
  }
  if (!verbose && empty) return '';
  const full = fieldMaskFull(mask, fd);
  const v = key[fd.word]!;
  const m = mask[fd.word]!;
  let s: string;
  switch (fd.fmt) {
    case 'eth': s = macText(key, fd.word) + (full ? '' : `/${macText(mask, fd.word)}`); break;
    case 'ip4': s = ip4Text(v) + (full ? '' : `/${ip4Text(m)}`); break;
    case 'ip6': s = ip6Text(key, fd.word) + (full ? '' : `/${ip6Text(mask, fd.word)}`); break;
    case 'u8u': case 'be16': s = String(v) + (full ? '' : `/${altHex(m)}`); break;
    case 'u8x': case 'be16x': case 'hex': case 'label': s = altHex(v) + (full ? '' : `/${altHex(m)}`); break;
  }
  return `${fd.label}=${s},`;
}

/** The inside of one attribute, e.g. `src=1.2.3.4,ttl=64` (empty when nothing is shown). */
export function formatAttrFields(name: AttrName, key: Uint32Array, mask: Uint32Array, verbose: boolean): string {
  if (name === 'mpls') return formatMpls(key, mask);
  let s = '';
  for (const fd of ATTRS[name]) s += formatField(fd, key, mask, verbose);
  return s.endsWith(',') ? s.slice(0, -1) : s;
}

export function attrMaskZero(name: AttrName, mask: Uint32Array): boolean {
  if (name === 'mpls') return !(mask[K.mplsLabel]! | mask[K.mplsTc]! | mask[K.mplsBos]! | mask[K.mplsTtl]!);
  for (const fd of ATTRS[name]) if (!fieldMaskZero(mask, fd)) return false;
  return true;
}

function attrMaskExact(name: AttrName, mask: Uint32Array): boolean {
  if (name === 'mpls') return mask[K.mplsLabel] === 0xfffff && mask[K.mplsTc] === 7 && mask[K.mplsBos] === 1 && mask[K.mplsTtl] === 0xff;
  return false;
}

const lseOf = (k: Uint32Array): number => ((k[K.mplsLabel]! << 12) | (k[K.mplsTc]! << 9) | (k[K.mplsBos]! << 8) | k[K.mplsTtl]!) >>> 0;

function formatMpls(key: Uint32Array, mask: Uint32Array): string {
  const base = `label=${key[K.mplsLabel]},tc=${key[K.mplsTc]},ttl=${key[K.mplsTtl]},bos=${key[K.mplsBos]}`;
  if (attrMaskExact('mpls', mask)) return base;
  return `label=${key[K.mplsLabel]}/0x${mask[K.mplsLabel]!.toString(16)},tc=${key[K.mplsTc]}/${mask[K.mplsTc]!.toString(16)},`
    + `ttl=${key[K.mplsTtl]}/0x${mask[K.mplsTtl]!.toString(16)},bos=${key[K.mplsBos]}/${mask[K.mplsBos]!.toString(16)}`;
}

/** The MPLS label stack entry of a key (label, tc, bos, ttl packed as on the wire). */
export const mplsLse = lseOf;

export function formatVlanTci(tci: number, mask: number, verbose: boolean): string {
  const parts: string[] = [];
  const vid = tci & 0xfff;
  const mvid = mask & 0xfff;
  const pcp = tci >>> 13;
  const mpcp = (mask >>> 13) & 7;
  if (verbose || vid || mvid) parts.push(`vid=${vid}${mvid !== 0xfff ? `/0x${mvid.toString(16)}` : ''}`);
  if (verbose || pcp || mpcp) parts.push(`pcp=${pcp}${mpcp !== 7 ? `/0x${mpcp.toString(16)}` : ''}`);
  if (!(tci & CFI)) parts.push('cfi=0');
  return parts.join(',');
}

const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns', '[200]', '[400]', '[800]'];

function formatTcpFlags(v: number, m: number): string {
  if (m === 0xfff) {
    if (!v) return '0';
    const names: string[] = [];
    for (let i = 0; i < 12; i++) if (v & (1 << i)) names.push(TCP_FLAG_NAMES[i]!);
    return names.join('|');
  }
  if (!m) return '0/0';
  let s = '';
  for (let i = 0; i < 12; i++) if (m & (1 << i)) s += `${v & (1 << i) ? '+' : '-'}${TCP_FLAG_NAMES[i]}`;
  return s;
}

/** Port names for the verbose form (`in_port(p1)`, `actions:p2`). */
export type PortNames = ReadonlyMap<number, string>;

/** The tunnel datapath ports and their kinds (vxlan, geneve, gre): what a decapsulated flow's tunnel() shows. */
export type TunnelPorts = ReadonlyMap<number, string>;

export const portText = (port: number, names?: PortNames): string => names?.get(port) ?? String(port);

/**
 * The key of a megaflow in ODP syntax. `key` is the flow's (masked) key;
 * non-verbose output leaves out what the mask wildcards entirely.
 */
export function formatOdpKey(key: Uint32Array, mask: Uint32Array, verbose = false, names?: PortNames, tunnels?: TunnelPorts): string {
  const out: string[] = [];
  // Attributes tsw's datapath never sets: always zero and wildcarded (shown by -m only).
  if (verbose) out.push('skb_priority(0/0)', 'skb_mark(0/0)', 'ct_state(0/0)', 'ct_zone(0/0)', 'ct_mark(0/0)', 'ct_label(0/0)');
  const tunnel = formatTunnel(key, mask, tunnels?.get(key[K.inPort]!));
  if (tunnel) out.push(tunnel);
  out.push(`recirc_id(${altHex(key[K.recircId]!)})`);
  if (verbose) out.push('dp_hash(0/0)');
  const inPortMask = mask[K.inPort]!;
  out.push(inPortMask === 0xffffffff ? `in_port(${portText(key[K.inPort]!, verbose ? names : undefined)})`
    : `in_port(${key[K.inPort]}/${altHex(inPortMask)})`);
  out.push('packet_type(ns=0,id=0)');
  const attr = (name: AttrName): void => {
    if (!verbose && attrMaskZero(name, mask)) return;
    out.push(`${name}(${formatAttrFields(name, key, mask, verbose)})`);
  };
  attr('eth');
  const tci = key[K.vlanTci]!;
  const inner: string[] = [];
  const target = tci & CFI ? inner : out;
  if (tci & CFI) {
    out.push('eth_type(0x8100)');
    out.push(`vlan(${formatVlanTci(tci, mask[K.vlanTci]!, verbose)})`);
  }
  const type = key[K.ethType]!;
  const typeMask = mask[K.ethType]!;
  if (verbose || typeMask) {
    target.push(`eth_type(0x${type.toString(16).padStart(4, '0')}${typeMask !== 0xffff ? `/0x${typeMask.toString(16).padStart(4, '0')}` : ''})`);
  }
  const sub = (name: AttrName): void => {
    if (!verbose && attrMaskZero(name, mask)) return;
    target.push(`${name}(${formatAttrFields(name, key, mask, verbose)})`);
  };
  if (type === ETH_IP || type === ETH_IPV6) {
    const v6 = type === ETH_IPV6;
    sub(v6 ? 'ipv6' : 'ipv4');
    if ((key[K.ipFrag]! & 2) === 0) {
      const proto = key[K.nwProto]!;
      if (proto === 6) {
        sub('tcp');
        const fm = mask[K.tcpFlags]!;
        if (fm || (verbose && key[K.tcpFlags])) target.push(`tcp_flags(${formatTcpFlags(key[K.tcpFlags]!, fm)})`);
      } else if (proto === 17) sub('udp');
      else if (proto === 132) sub('sctp');
      else if (proto === 1 && !v6) sub('icmp');
      else if (proto === 58 && v6) {
        sub('icmpv6');
        const t = key[K.icmpv6Type]!;
        if ((t === 135 || t === 136) && key[K.icmpv6Code] === 0) {
          sub('nd');
          if (!attrMaskZero('nd_ext', mask)) sub('nd_ext');
        }
      }
    }
  } else if (type === ETH_ARP || type === ETH_RARP) {
    sub('arp');
  } else if (type === ETH_MPLS || type === ETH_MPLSM) {
    sub('mpls');
  } else if (type === ETH_NSH) {
    sub('nsh');
  }
  if (tci & CFI) out.push(`encap(${inner.join(',')})`);
  return out.join(',');
}

/**
 * `tunnel(tun_id=0x2a,src=10.0.0.1,dst=10.0.0.2,flags(-df-csum+key))` for a
 * flow of decapsulated packets (its mask covers the tunnel metadata), empty
 * otherwise. tsw's tunnels never set DF or a checksum; a key shows as present
 * when it is not 0 (as for every VXLAN and Geneve tunnel, and keyed GRE).
 */
function formatTunnel(key: Uint32Array, mask: Uint32Array, kind: string | undefined): string {
  // Only a packet that came out of a tunnel has tunnel metadata (a flow matching zeros there has none, as in OVS's key).
  if (!(mask[K.tunId]! | mask[K.tunId + 1]! | mask[K.tunSrc]! | mask[K.tunDst]!) || !(key[K.tunSrc]! | key[K.tunDst]!)) return '';
  const id = (BigInt(key[K.tunId]!) << 32n) | BigInt(key[K.tunId + 1]!);
  const parts: string[] = [];
  if (mask[K.tunId] || mask[K.tunId + 1]) parts.push(`tun_id=0x${id.toString(16)}`);
  if (mask[K.tunSrc]) parts.push(`src=${ip4Text(key[K.tunSrc]!)}`);
  if (mask[K.tunDst]) parts.push(`dst=${ip4Text(key[K.tunDst]!)}`);
  // A Geneve tunnel's options (tsw keeps none) come before the flags.
  if (kind === 'geneve') parts.push('geneve()');
  parts.push(`flags(-df-csum${id !== 0n ? '+' : '-'}key)`);
  return `tunnel(${parts.join(',')})`;
}

/** The 128-bit unique flow id OVS prints with -m (derived from the masked key, stable across dumps). */
export function ufidOf(key: Uint32Array, mask: Uint32Array): string {
  const parts: number[] = [];
  for (let seed = 0; seed < 4; seed++) {
    let h = (0x9747b28c ^ Math.imul(seed + 1, 0x85ebca6b)) >>> 0;
    for (let i = 0; i < DP_KEY_WORDS; i++) {
      h = Math.imul(h ^ ((key[i]! & mask[i]!) >>> 0), 0x01000193);
      h ^= mask[i]!;
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    }
    parts.push((h ^ (h >>> 16)) >>> 0);
  }
  const hx = parts.map((p) => p.toString(16).padStart(8, '0')).join('');
  return `${hx.slice(0, 8)}-${hx.slice(8, 12)}-${hx.slice(12, 16)}-${hx.slice(16, 20)}-${hx.slice(20, 32)}`;
}

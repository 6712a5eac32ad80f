// Frames and flow keys: extracting a key from a frame (OVS's flow_extract),
// composing a frame from a flow description (flow_compose, for
// netdev-dummy/receive and ofproto/trace -generate), and writing a changed
// key back onto a frame (what the datapath's set actions do).

import type { Match } from '../openflow/index.js';
import { FLOW_WORDS, fieldSlot, getField, newFlowKey, setField } from './key.js';

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_MPLS = 0x8847;
const ETH_MPLSM = 0x8848;
const ETH_NSH = 0x894f;
/** OVS's dl_type for an 802.3 frame that has no Ethernet II type. */
const ETH_NONE = 0x05ff;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_SCTP = 132;
const PROTO_ICMPV6 = 58;
const FRAG_ANY = 1;
const FRAG_LATER = 2;
/** NSH: base header bytes, and the whole header of MD type 1 (base, service path, four context words). */
const NSH_BASE_LEN = 8;
const NSH_MD1_LEN = 24;
/** ND options that carry a link-layer address (source, target). */
const ND_OPT_SLL = 1;
const ND_OPT_TLL = 2;

// Word indices of the single-word fields extraction writes (integers only on the hot path).
const W = Object.fromEntries([
  'in_port', 'eth_type', 'vlan_tci', 'ip_tos', 'nw_proto', 'nw_ttl', 'ip_frag', 'ip_src', 'ip_dst', 'tcp_src', 'tcp_dst',
  'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code', 'arp_op', 'arp_spa',
  'arp_tpa', 'tcp_flags', 'mpls_label', 'mpls_tc', 'mpls_bos', 'mpls_ttl', 'ipv6_label', 'nd_reserved', 'nd_options_type',
  'nsh_flags', 'nsh_ttl', 'nsh_mdtype', 'nsh_np', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4',
].map((n) => [n, fieldSlot(n).word])) as Record<string, number>;
const MAC_WORDS = Object.fromEntries(['eth_src', 'eth_dst', 'arp_sha', 'arp_tha', 'nd_sll', 'nd_tll'].map((n) => [n, fieldSlot(n).word])) as Record<string, number>;
const V6_WORDS = Object.fromEntries(['ipv6_src', 'ipv6_dst', 'nd_target'].map((n) => [n, fieldSlot(n).word])) as Record<string, number>;
/** Fields that come from the packet (cleared before each extraction); the rest is pipeline metadata. */
const PACKET_WORDS: number[] = (() => {
  const out: number[] = [];
  for (const n of [...Object.keys(W).filter((x) => x !== 'in_port'), ...Object.keys(MAC_WORDS), ...Object.keys(V6_WORDS)]) {
    const s = fieldSlot(n);
    for (let i = 0; i < s.words; i++) out.push(s.word + i);
  }
  return out;
})();

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function putMac(key: Uint32Array, word: number, b: Uint8Array, o: number): void {
  key[word] = u16(b, o);
  key[word + 1] = u32(b, o + 2);
}

/**
 * Fills `key` from a frame received on `inPort` (OF1.1+ numbering). Never throws: a short frame yields what it has.
 * The frame may sit at `start` inside a larger buffer (a batch), so the datapath needs no view per packet.
 */
export function extractFlow(frame: Uint8Array, len: number, inPort: number, key: Uint32Array, start = 0): void {
  for (const w of PACKET_WORDS) key[w] = 0;
  key[W.in_port!] = inPort >>> 0;
  const end = Math.min(start + len, frame.length);
  if (end - start < 14) return;
  putMac(key, MAC_WORDS.eth_dst!, frame, start);
  putMac(key, MAC_WORDS.eth_src!, frame, start + 6);
  let off = start + 12;
  let type = u16(frame, off);
  off += 2;
  if ((type === ETH_VLAN || type === ETH_QINQ) && end >= off + 4) {
    key[W.vlan_tci!] = u16(frame, off) | 0x1000;
    type = u16(frame, off + 2);
    off += 4;
    // Inner tags of QinQ are skipped: the key holds the outer tag, as OVS with vlan-limit 1.
    while ((type === ETH_VLAN || type === ETH_QINQ) && end >= off + 4) {
      type = u16(frame, off + 2);
      off += 4;
    }
  }
  if (type < 0x600) {
    key[W.eth_type!] = ETH_NONE;
    return;
  }
  key[W.eth_type!] = type;
  if (type === ETH_NSH) {
    extractNsh(frame, off, end, key);
    return;
  }
  if (type === ETH_MPLS || type === ETH_MPLSM) {
    if (end < off + 4) return;
    const lse = u32(frame, off);
    key[W.mpls_label!] = lse >>> 12;
    key[W.mpls_tc!] = (lse >>> 9) & 7;
    key[W.mpls_bos!] = (lse >>> 8) & 1;
    key[W.mpls_ttl!] = lse & 0xff;
    return;
  }
  if (type === ETH_ARP || type === ETH_RARP) {
    if (end < off + 28 || u16(frame, off) !== 1 || u16(frame, off + 2) !== ETH_IP || frame[off + 4] !== 6 || frame[off + 5] !== 4) return;
    const op = u16(frame, off + 6);
    if (op <= 0xff) key[W.arp_op!] = op;
    putMac(key, MAC_WORDS.arp_sha!, frame, off + 8);
    key[W.arp_spa!] = u32(frame, off + 14);
    putMac(key, MAC_WORDS.arp_tha!, frame, off + 18);
    key[W.arp_tpa!] = u32(frame, off + 24);
    return;
  }
  if (type === ETH_IP) {
    if (end < off + 20 || frame[off]! >> 4 !== 4) return;
    const ihl = (frame[off]! & 0xf) * 4;
    if (ihl < 20 || end < off + ihl) return;
    key[W.ip_tos!] = frame[off + 1]!;
    const fragWord = u16(frame, off + 6);
    const proto = frame[off + 9]!;
    key[W.nw_ttl!] = frame[off + 8]!;
    key[W.nw_proto!] = proto;
    key[W.ip_src!] = u32(frame, off + 12);
    key[W.ip_dst!] = u32(frame, off + 16);
    if (fragWord & 0x3fff) {
      key[W.ip_frag!] = FRAG_ANY | (fragWord & 0x1fff ? FRAG_LATER : 0);
      if (fragWord & 0x1fff) return;
    }
    extractL4(frame, off + ihl, end, proto, false, key);
    return;
  }
  if (type === ETH_IPV6) {
    if (end < off + 40 || frame[off]! >> 4 !== 6) return;
    const first = u32(frame, off);
    key[W.ip_tos!] = (first >>> 20) & 0xff;
    key[W.ipv6_label!] = first & 0xfffff;
    key[W.nw_ttl!] = frame[off + 7]!;
    const src = V6_WORDS.ipv6_src!;
    const dst = V6_WORDS.ipv6_dst!;
    for (let i = 0; i < 4; i++) {
      key[src + i] = u32(frame, off + 8 + 4 * i);
      key[dst + i] = u32(frame, off + 24 + 4 * i);
    }
    let next = frame[off + 6]!;
    let p = off + 40;
    // Extension headers: hop-by-hop, routing, destination options, fragment, AH (bounded walk).
    for (let hops = 0; hops < 16; hops++) {
      if (next === 0 || next === 43 || next === 60) {
        if (end < p + 8) return;
        next = frame[p]!;
        p += (frame[p + 1]! + 1) * 8;
      } else if (next === 51) {
        if (end < p + 8) return;
        next = frame[p]!;
        p += (frame[p + 1]! + 2) * 4;
      } else if (next === 44) {
        if (end < p + 8) return;
        const offFlags = u16(frame, p + 2);
        next = frame[p]!;
        p += 8;
        key[W.ip_frag!] = FRAG_ANY | (offFlags & 0xfff8 ? FRAG_LATER : 0);
        if (offFlags & 0xfff8) {
          key[W.nw_proto!] = next;
          return;
        }
      } else {
        break;
      }
    }
    key[W.nw_proto!] = next;
    extractL4(frame, p, end, next, true, key);
  }
}

/**
 * The NSH base and service path headers, and the context words of MD type 1
 * (OVS's parse_nsh): a header that is not version 0, runs past the frame, or
 * is MD type 1 of the wrong length leaves the NSH fields zero.
 */
function extractNsh(frame: Uint8Array, off: number, end: number, key: Uint32Array): void {
  if (end < off + NSH_BASE_LEN) return;
  const first = u16(frame, off);
  const len = (first & 0x3f) * 4;
  const mdtype = frame[off + 2]!;
  if (first >>> 14 !== 0 || len > end - off) return;
  if ((mdtype === 1 && len !== NSH_MD1_LEN) || (mdtype === 2 && len < NSH_BASE_LEN)) return;
  key[W.nsh_flags!] = (first >>> 12) & 0x3;
  key[W.nsh_ttl!] = (first >>> 6) & 0x3f;
  key[W.nsh_mdtype!] = mdtype;
  key[W.nsh_np!] = frame[off + 3]!;
  key[W.nsh_spi!] = u32(frame, off + 4) >>> 8;
  key[W.nsh_si!] = frame[off + 7]!;
  // MD type 2 metadata (TLVs) is not parsed, as in OVS: its context words stay zero.
  if (mdtype === 1) {
    key[W.nsh_c1!] = u32(frame, off + 8);
    key[W.nsh_c2!] = u32(frame, off + 12);
    key[W.nsh_c3!] = u32(frame, off + 16);
    key[W.nsh_c4!] = u32(frame, off + 20);
  }
}

/**
 * Neighbor solicitation/advertisement (OVS's parse_icmpv6): the reserved word
 * after the checksum, the target, the link-layer address options, and the type
 * of the first of those options. A repeated option makes the target and
 * addresses zero (the packet is not a valid ND), but keeps the option type.
 */
function extractNd(frame: Uint8Array, p: number, end: number, t: number, key: Uint32Array): void {
  key[W.nd_reserved!] = u32(frame, p + 4);
  if (end < p + 24) return;
  let sllHi = 0, sllLo = 0, tllHi = 0, tllLo = 0, optType = 0;
  let valid = true;
  for (let o = p + 24; o + 8 <= end;) {
    const optLen = frame[o + 1]! * 8;
    if (optLen === 0 || o + optLen > end) break;
    const ot = frame[o]!;
    if ((ot === ND_OPT_SLL || ot === ND_OPT_TLL) && optLen === 8) {
      const hi = u16(frame, o + 2);
      const lo = u32(frame, o + 4);
      if (ot === ND_OPT_SLL) {
        if (sllHi || sllLo) { valid = false; break; }
        sllHi = hi; sllLo = lo;
      } else {
        if (tllHi || tllLo) { valid = false; break; }
        tllHi = hi; tllLo = lo;
      }
      if (optType === 0) optType = ot;
    }
    o += optLen;
  }
  key[W.nd_options_type!] = optType;
  if (!valid) return;
  const tgt = V6_WORDS.nd_target!;
  for (let i = 0; i < 4; i++) key[tgt + i] = u32(frame, p + 8 + 4 * i);
  if (t === 135) { key[MAC_WORDS.nd_sll!] = sllHi; key[MAC_WORDS.nd_sll! + 1] = sllLo; }
  if (t === 136) { key[MAC_WORDS.nd_tll!] = tllHi; key[MAC_WORDS.nd_tll! + 1] = tllLo; }
}

function extractL4(frame: Uint8Array, p: number, end: number, proto: number, v6: boolean, key: Uint32Array): void {
  if (proto === PROTO_TCP) {
    if (end < p + 20) return;
    key[W.tcp_src!] = u16(frame, p);
    key[W.tcp_dst!] = u16(frame, p + 2);
    key[W.tcp_flags!] = u16(frame, p + 12) & 0x0fff;
  } else if (proto === PROTO_UDP) {
    if (end < p + 8) return;
    key[W.udp_src!] = u16(frame, p);
    key[W.udp_dst!] = u16(frame, p + 2);
  } else if (proto === PROTO_SCTP) {
    if (end < p + 12) return;
    key[W.sctp_src!] = u16(frame, p);
    key[W.sctp_dst!] = u16(frame, p + 2);
  } else if (proto === PROTO_ICMP && !v6) {
    if (end < p + 8) return;
    key[W.icmp_type!] = frame[p]!;
    key[W.icmp_code!] = frame[p + 1]!;
  } else if (proto === PROTO_ICMPV6 && v6) {
    if (end < p + 8) return;
    const t = frame[p]!;
    key[W.icmpv6_type!] = t;
    key[W.icmpv6_code!] = frame[p + 1]!;
    if ((t === 135 || t === 136) && frame[p + 1] === 0) extractNd(frame, p, end, t, key);
  }
}

// ------------------------------------------------------------------ checksums

function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, v >>> 16);
  put16(b, o + 2, v & 0xffff);
}

interface Layout { l3: number; type: number; l4: number; proto: number; v6: boolean; end: number; fragment: boolean }

/** Where the headers of a frame are (the same walk as extraction). */
function layout(b: Uint8Array): Layout | null {
  if (b.length < 14) return null;
  let off = 12;
  let type = u16(b, off);
  off += 2;
  while ((type === ETH_VLAN || type === ETH_QINQ) && b.length >= off + 4) {
    type = u16(b, off + 2);
    off += 4;
  }
  const out: Layout = { l3: off, type, l4: -1, proto: -1, v6: false, end: b.length, fragment: false };
  if (type === ETH_IP && b.length >= off + 20) {
    const ihl = (b[off]! & 0xf) * 4;
    out.l4 = off + ihl;
    out.proto = b[off + 9]!;
    out.fragment = (u16(b, off + 6) & 0x3fff) !== 0;
    out.end = Math.min(b.length, off + u16(b, off + 2));
  } else if (type === ETH_IPV6 && b.length >= off + 40) {
    out.v6 = true;
    out.proto = b[off + 6]!;
    out.l4 = off + 40;
    out.end = Math.min(b.length, off + 40 + u16(b, off + 4));
  }
  return out;
}

/** Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksums of a frame in place. */
export function fixChecksums(b: Uint8Array): void {
  const l = layout(b);
  if (!l || l.l4 < 0) return;
  if (!l.v6) {
    put16(b, l.l3 + 10, 0);
    put16(b, l.l3 + 10, fold(sum16(b, l.l3, l.l4)));
  }
  if (l.fragment || l.l4 > l.end) return;
  const len = l.end - l.l4;
  let pseudo = 0;
  if (l.v6) {
    pseudo = sum16(b, l.l3 + 8, l.l3 + 40) + len + l.proto;
  } else {
    pseudo = sum16(b, l.l3 + 12, l.l3 + 20) + len + l.proto;
  }
  const at = l.proto === PROTO_TCP ? 16 : l.proto === PROTO_UDP ? 6 : (l.proto === PROTO_ICMP && !l.v6) || (l.proto === PROTO_ICMPV6 && l.v6) ? 2 : -1;
  if (at < 0 || len < at + 2) return;
  if (l.proto === PROTO_UDP && !l.v6 && u16(b, l.l4 + 6) === 0) return;   // an IPv4 UDP checksum of 0 means "none"
  put16(b, l.l4 + at, 0);
  const icmp4 = l.proto === PROTO_ICMP;
  let c = fold(sum16(b, l.l4, l.end, icmp4 ? 0 : pseudo));
  if (l.proto === PROTO_UDP && c === 0) c = 0xffff;
  put16(b, l.l4 + at, c);
}

// ------------------------------------------------------------------ compose

const big = (m: Match, name: string, dflt = 0n): bigint => m[name]?.value ?? dflt;

/** A frame with the headers a flow describes (unset fields zero, TTL 64), checksums valid. */
export function composePacket(flow: Match): Uint8Array {
  const key = newFlowKey();
  for (const [name, fm] of Object.entries(flow)) setField(key, name, fm.value);
  if (!('nw_ttl' in flow)) setField(key, 'nw_ttl', 64n);
  const type = Number(big(flow, 'eth_type', 0n)) || 0;
  const tci = Number(getField(key, 'vlan_tci'));
  const head: number[] = [];
  const mac = (name: string) => {
    const v = getField(key, name);
    for (let i = 5; i >= 0; i--) head.push(Number((v >> BigInt(8 * i)) & 0xffn));
  };
  mac('eth_dst');
  mac('eth_src');
  if (tci & 0x1000) head.push(0x81, 0x00, (tci >> 8) & 0xef, tci & 0xff);
  head.push(type >> 8, type & 0xff);
  const out: number[] = [...head];
  const proto = Number(getField(key, 'nw_proto'));
  if (type === ETH_ARP || type === ETH_RARP) {
    const b = new Uint8Array(28);
    put16(b, 0, 1); put16(b, 2, ETH_IP); b[4] = 6; b[5] = 4;
    put16(b, 6, Number(getField(key, 'arp_op')));
    writeMac(b, 8, getField(key, 'arp_sha'));
    put32(b, 14, Number(getField(key, 'arp_spa')));
    writeMac(b, 18, getField(key, 'arp_tha'));
    put32(b, 24, Number(getField(key, 'arp_tpa')));
    out.push(...b);
  } else if (type === ETH_IP || type === ETH_IPV6) {
    const v6 = type === ETH_IPV6;
    const l4 = composeL4(key, proto, v6);
    const ip = new Uint8Array(v6 ? 40 : 20);
    const tos = Number(getField(key, 'ip_tos'));
    if (v6) {
      put32(ip, 0, (6 << 28) | (tos << 20) | Number(getField(key, 'ipv6_label')));
      put16(ip, 4, l4.length);
      ip[6] = proto;
      ip[7] = Number(getField(key, 'nw_ttl'));
      writeWide(ip, 8, getField(key, 'ipv6_src'), 16);
      writeWide(ip, 24, getField(key, 'ipv6_dst'), 16);
    } else {
      ip[0] = 0x45;
      ip[1] = tos;
      put16(ip, 2, 20 + l4.length);
      const frag = Number(getField(key, 'ip_frag'));
      if (frag & FRAG_ANY) put16(ip, 6, frag & FRAG_LATER ? 100 : 0x2000);
      ip[8] = Number(getField(key, 'nw_ttl'));
      ip[9] = proto;
      put32(ip, 12, Number(getField(key, 'ip_src')));
      put32(ip, 16, Number(getField(key, 'ip_dst')));
    }
    out.push(...ip, ...l4);
  } else if (type === ETH_MPLS || type === ETH_MPLSM) {
    const b = new Uint8Array(4);
    put32(b, 0, (Number(getField(key, 'mpls_label')) << 12) | (Number(getField(key, 'mpls_tc')) << 9) | (Number(getField(key, 'mpls_bos')) << 8) | Number(getField(key, 'mpls_ttl')));
    out.push(...b);
  } else if (type === ETH_NSH) {
    out.push(...composeNsh(key));
  }
  const frame = Uint8Array.from(out);
  fixChecksums(frame);
  return frame;
}

/** An NSH header of the key's fields: MD type 1 with its four context words, any other type with the base headers only. */
function composeNsh(key: Uint32Array): Uint8Array {
  const mdtype = Number(getField(key, 'nsh_mdtype'));
  const b = new Uint8Array(mdtype === 1 ? NSH_MD1_LEN : NSH_BASE_LEN);
  put16(b, 0, ((Number(getField(key, 'nsh_flags')) & 3) << 12) | ((Number(getField(key, 'nsh_ttl')) & 0x3f) << 6) | (b.length / 4));
  b[2] = mdtype;
  b[3] = Number(getField(key, 'nsh_np'));
  put32(b, 4, ((Number(getField(key, 'nsh_spi')) << 8) | Number(getField(key, 'nsh_si'))) >>> 0);
  if (mdtype === 1) for (let i = 0; i < 4; i++) put32(b, 8 + 4 * i, Number(getField(key, `nsh_c${i + 1}`)));
  return b;
}

function composeL4(key: Uint32Array, proto: number, v6: boolean): Uint8Array {
  if (proto === PROTO_TCP) {
    const b = new Uint8Array(20);
    put16(b, 0, Number(getField(key, 'tcp_src')));
    put16(b, 2, Number(getField(key, 'tcp_dst')));
    put16(b, 12, 0x5000 | Number(getField(key, 'tcp_flags')));
    return b;
  }
  if (proto === PROTO_UDP) {
    const b = new Uint8Array(8);
    put16(b, 0, Number(getField(key, 'udp_src')));
    put16(b, 2, Number(getField(key, 'udp_dst')));
    put16(b, 4, 8);
    put16(b, 6, 0xffff);   // non-zero so the checksum is computed
    return b;
  }
  if (proto === PROTO_SCTP) {
    const b = new Uint8Array(12);
    put16(b, 0, Number(getField(key, 'sctp_src')));
    put16(b, 2, Number(getField(key, 'sctp_dst')));
    return b;
  }
  if (proto === PROTO_ICMP && !v6) {
    const b = new Uint8Array(8);
    b[0] = Number(getField(key, 'icmp_type'));
    b[1] = Number(getField(key, 'icmp_code'));
    return b;
  }
  if (proto === PROTO_ICMPV6 && v6) {
    const t = Number(getField(key, 'icmpv6_type'));
    const nd = t === 135 || t === 136;
    const b = new Uint8Array(nd ? 32 : 8);
    b[0] = t;
    b[1] = Number(getField(key, 'icmpv6_code'));
    if (nd) {
      put32(b, 4, Number(getField(key, 'nd_reserved')));
      writeWide(b, 8, getField(key, 'nd_target'), 16);
      b[24] = t === 135 ? 1 : 2;
      b[25] = 1;
      writeMac(b, 26, getField(key, t === 135 ? 'nd_sll' : 'nd_tll'));
    }
    return b;
  }
  return new Uint8Array(0);
}

function writeMac(b: Uint8Array, o: number, v: bigint): void {
  writeWide(b, o, v, 6);
}
function writeWide(b: Uint8Array, o: number, v: bigint, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    b[o + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

// ------------------------------------------------------------------ modify

function differs(a: Uint32Array, b: Uint32Array, name: string): boolean {
  const s = fieldSlot(name);
  for (let i = 0; i < s.words; i++) if (a[s.word + i] !== b[s.word + i]) return true;
  return false;
}

/**
 * The frame with its headers rewritten so that it extracts to `newKey`
 * where `newKey` differs from `oldKey`: addresses, VLAN tag push/pop/change,
 * IP and L4 fields with checksums fixed, ARP fields, the MPLS label entry.
 */
export function applyFlowToPacket(frame: Uint8Array, oldKey: Uint32Array, newKey: Uint32Array): Uint8Array {
  let b = frame;
  let same = true;
  for (let i = 0; i < FLOW_WORDS; i++) if (oldKey[i] !== newKey[i]) { same = false; break; }
  if (same || b.length < 14) return b;
  b = new Uint8Array(frame);
  if (differs(oldKey, newKey, 'eth_dst')) writeMac(b, 0, getField(newKey, 'eth_dst'));
  if (differs(oldKey, newKey, 'eth_src')) writeMac(b, 6, getField(newKey, 'eth_src'));
  if (differs(oldKey, newKey, 'vlan_tci')) {
    const oldTci = Number(getField(oldKey, 'vlan_tci'));
    const tci = Number(getField(newKey, 'vlan_tci'));
    const tagged = u16(b, 12) === ETH_VLAN || u16(b, 12) === ETH_QINQ;
    if (tci & 0x1000) {
      if (tagged) {
        put16(b, 14, tci & ~0x1000);
      } else {
        const nb = new Uint8Array(b.length + 4);
        nb.set(b.subarray(0, 12));
        put16(nb, 12, ETH_VLAN);
        put16(nb, 14, tci & ~0x1000);
        nb.set(b.subarray(12), 16);
        b = nb;
      }
    } else if (tagged && oldTci & 0x1000) {
      const nb = new Uint8Array(b.length - 4);
      nb.set(b.subarray(0, 12));
      nb.set(b.subarray(16), 12);
      b = nb;
    }
  }
  const l = layout(b);
  if (!l) return b;
  let l3Changed = false;
  if (l.type === ETH_IP && l.l4 > 0) {
    for (const [name, at] of [['ip_src', 12], ['ip_dst', 16]] as const) {
      if (differs(oldKey, newKey, name)) { put32(b, l.l3 + at, Number(getField(newKey, name))); l3Changed = true; }
    }
    if (differs(oldKey, newKey, 'ip_tos')) { b[l.l3 + 1] = Number(getField(newKey, 'ip_tos')); l3Changed = true; }
    if (differs(oldKey, newKey, 'nw_ttl')) { b[l.l3 + 8] = Number(getField(newKey, 'nw_ttl')); l3Changed = true; }
  } else if (l.type === ETH_IPV6 && l.l4 > 0) {
    if (differs(oldKey, newKey, 'ipv6_src')) { writeWide(b, l.l3 + 8, getField(newKey, 'ipv6_src'), 16); l3Changed = true; }
    if (differs(oldKey, newKey, 'ipv6_dst')) { writeWide(b, l.l3 + 24, getField(newKey, 'ipv6_dst'), 16); l3Changed = true; }
    if (differs(oldKey, newKey, 'nw_ttl')) { b[l.l3 + 7] = Number(getField(newKey, 'nw_ttl')); l3Changed = true; }
    if (differs(oldKey, newKey, 'ip_tos') || differs(oldKey, newKey, 'ipv6_label')) {
      put32(b, l.l3, (6 << 28) | (Number(getField(newKey, 'ip_tos')) << 20) | Number(getField(newKey, 'ipv6_label')));
      l3Changed = true;
    }
  } else if ((l.type === ETH_ARP || l.type === ETH_RARP) && b.length >= l.l3 + 28) {
    if (differs(oldKey, newKey, 'arp_op')) put16(b, l.l3 + 6, Number(getField(newKey, 'arp_op')));
    if (differs(oldKey, newKey, 'arp_sha')) writeMac(b, l.l3 + 8, getField(newKey, 'arp_sha'));
    if (differs(oldKey, newKey, 'arp_spa')) put32(b, l.l3 + 14, Number(getField(newKey, 'arp_spa')));
    if (differs(oldKey, newKey, 'arp_tha')) writeMac(b, l.l3 + 18, getField(newKey, 'arp_tha'));
    if (differs(oldKey, newKey, 'arp_tpa')) put32(b, l.l3 + 24, Number(getField(newKey, 'arp_tpa')));
    return b;
  } else if ((l.type === ETH_MPLS || l.type === ETH_MPLSM) && b.length >= l.l3 + 4) {
    put32(b, l.l3, (Number(getField(newKey, 'mpls_label')) << 12) | (Number(getField(newKey, 'mpls_tc')) << 9)
      | (Number(getField(newKey, 'mpls_bos')) << 8) | Number(getField(newKey, 'mpls_ttl')));
    return b;
  }
  let l4Changed = false;
  if (l.l4 > 0 && !l.fragment) {
    const ports: ReadonlyArray<readonly [string, string, number]> = [
      ['tcp_src', 'tcp_dst', PROTO_TCP], ['udp_src', 'udp_dst', PROTO_UDP], ['sctp_src', 'sctp_dst', PROTO_SCTP],
    ];
    for (const [src, dst, proto] of ports) {
      if (l.proto !== proto || b.length < l.l4 + 4) continue;
      if (differs(oldKey, newKey, src)) { put16(b, l.l4, Number(getField(newKey, src))); l4Changed = true; }
      if (differs(oldKey, newKey, dst)) { put16(b, l.l4 + 2, Number(getField(newKey, dst))); l4Changed = true; }
    }
    if (l.proto === PROTO_ICMP && !l.v6 && b.length >= l.l4 + 2) {
      if (differs(oldKey, newKey, 'icmp_type')) { b[l.l4] = Number(getField(newKey, 'icmp_type')); l4Changed = true; }
      if (differs(oldKey, newKey, 'icmp_code')) { b[l.l4 + 1] = Number(getField(newKey, 'icmp_code')); l4Changed = true; }
    }
  }
  if (l3Changed || l4Changed) fixChecksums(b);
  return b;
}

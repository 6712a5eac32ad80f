// In-place header edits on frames of a batch (the datapath's set, push and
// pop actions): a masked set is compiled once per megaflow into 16-bit word
// patches relative to the L2/L3/L4 header starts, so per packet it is a
// header walk, a few masked writes, and incremental checksum updates
// (RFC 1624); no allocation, no bigint.

import type { FrameBatch } from '../native/batch.js';
import { checkSetMask } from './actions.js';
import { K } from './words.js';

const ETH_IP = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_MPLS = 0x8847;
const ETH_MPLSM = 0x8848;
const ETH_NSH = 0x894f;
const ND_SOLICIT = 135;
const ND_ADVERT = 136;

// ------------------------------------------------------------------ layout

/** Header offsets of the frame last walked (module scratch: one walk at a time, no object per packet). */
export const LAY = new Int32Array(8);
export const L3 = 0;
export const TYPE = 1;
export const L4 = 2;
export const PROTO = 3;
/** Where the IP packet ends (its total length), bounded by the frame. */
export const L3END = 4;
export const V6 = 5;
/** NSH: the MD type of the header at L3 (-1: not NSH). ND: the ICMPv6 type (135/136) of the walked frame (-1: not ND). */
export const NSH_MD = 6;
export const ND = 7;
/** The first ND option's type when it is one 8-byte unit (a link-layer address option), as ND_OPT below. */
let ndOpt = -1;

/** Fills LAY for the frame at b[s .. s+len): offsets relative to s; L4 is -1 without a (first-fragment) L4 header. */
export function walk(b: Uint8Array, s: number, len: number): void {
  LAY[L3] = -1; LAY[TYPE] = 0; LAY[L4] = -1; LAY[PROTO] = -1; LAY[L3END] = len; LAY[V6] = 0; LAY[NSH_MD] = -1; LAY[ND] = -1;
  ndOpt = -1;
  if (len < 14) return;
  let o = 12;
  let type = (b[s + o]! << 8) | b[s + o + 1]!;
  o += 2;
  while ((type === ETH_VLAN || type === ETH_QINQ) && o + 4 <= len) {
    type = (b[s + o + 2]! << 8) | b[s + o + 3]!;
    o += 4;
  }
  LAY[L3] = o;
  LAY[TYPE] = type;
  if (type === ETH_IP) {
    if (o + 20 > len || b[s + o]! >> 4 !== 4) return;
    const ihl = (b[s + o]! & 0xf) * 4;
    if (ihl < 20 || o + ihl > len) return;
    LAY[PROTO] = b[s + o + 9]!;
    const total = (b[s + o + 2]! << 8) | b[s + o + 3]!;
    LAY[L3END] = Math.min(len, o + Math.max(total, ihl));
    if (((b[s + o + 6]! << 8) | b[s + o + 7]!) & 0x1fff) return;   // a later fragment: no L4 header
    LAY[L4] = o + ihl;
  } else if (type === ETH_IPV6) {
    if (o + 40 > len || b[s + o]! >> 4 !== 6) return;
    LAY[V6] = 1;
    LAY[PROTO] = b[s + o + 6]!;
    LAY[L3END] = Math.min(len, o + 40 + ((b[s + o + 4]! << 8) | b[s + o + 5]!));
    LAY[L4] = o + 40;   // extension headers are not walked: sets of L4 fields need the L4 header first
    const l4 = o + 40;
    const t = l4 + 24 <= len ? b[s + l4]! : -1;
    if (LAY[PROTO] === 58 && b[s + l4 + 1] === 0 && (t === ND_SOLICIT || t === ND_ADVERT)) {
      LAY[ND] = t;
      if (l4 + 32 <= len && b[s + l4 + 25] === 1) ndOpt = b[s + l4 + 24]!;
    }
  } else if (type === ETH_NSH) {
    if (o + 8 <= len && b[s + o]! >> 6 === 0) LAY[NSH_MD] = b[s + o + 2]! & 0xf;
  }
}

// ------------------------------------------------------------------ checksums

function csumUpdate(csum: number, old: number, now: number): number {
  let s = (~csum & 0xffff) + (~old & 0xffff) + now;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** SCTP's CRC32c over the packet with the checksum field zeroed, stored little-endian. */
function fixSctp(b: Uint8Array, s: number, l4: number, end: number): void {
  if (l4 + 12 > end) return;
  b.fill(0, s + l4 + 8, s + l4 + 12);
  let c = 0xffffffff;
  for (let i = s + l4; i < s + end; i++) c = CRC32C[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  c = ~c >>> 0;
  b[s + l4 + 8] = c & 0xff; b[s + l4 + 9] = (c >>> 8) & 0xff; b[s + l4 + 10] = (c >>> 16) & 0xff; b[s + l4 + 11] = c >>> 24;
}

// ------------------------------------------------------------------ masked set

// What a patch needs the packet to be, and where it is based.
const NEED_ETH = 0, NEED_IP4 = 1, NEED_IP6 = 2, NEED_ARP = 3, NEED_MPLS = 4, NEED_TCP = 5, NEED_UDP = 6, NEED_SCTP = 7, NEED_ICMP = 8, NEED_ICMP6 = 9;
/** ND (solicitation or advertisement); its source (target) link-layer address option first; NSH; NSH of MD type 1. */
const NEED_ND = 10, NEED_ND_SLL = 11, NEED_ND_TLL = 12, NEED_NSH = 13, NEED_NSH_MD1 = 14;
const ND_OPT_SLL = 1, ND_OPT_TLL = 2;
const BASE_L2 = 0, BASE_L3 = 1, BASE_L4 = 2;
/** Checksums a patched word is part of: the IPv4 header, the L4 pseudo-header, the L4 header. */
const CS_IP = 1, CS_PSEUDO = 2, CS_L4 = 4;

/** A compiled masked set: 6 ints per 16-bit patch (need, base, offset, value, mask, checksum flags). */
export interface SetProgram { readonly patches: Int32Array; readonly n: number; readonly sctp: boolean }

interface Image { need: number; base: number; cs: number; val: Uint8Array; msk: Uint8Array }

function putBytes(img: Image, at: number, bytes: number, v: number, m: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    img.val[at + i] = v & 0xff;
    img.msk[at + i] = m & 0xff;
    v = Math.floor(v / 256);
    m = Math.floor(m / 256);
  }
}
const putMac = (img: Image, at: number, key: Uint32Array, mask: Uint32Array, w: number): void => {
  putBytes(img, at, 2, key[w]! & mask[w]!, mask[w]!);
  putBytes(img, at + 2, 4, (key[w + 1]! & mask[w + 1]!) >>> 0, mask[w + 1]!);
};
const putWide = (img: Image, at: number, key: Uint32Array, mask: Uint32Array, w: number): void => {
  for (let i = 0; i < 4; i++) putBytes(img, at + 4 * i, 4, (key[w + i]! & mask[w + i]!) >>> 0, mask[w + i]!);
};

/** Compiles a set action's key/mask (DpifError for fields a datapath cannot rewrite). */
export function compileSet(key: Uint32Array, mask: Uint32Array): SetProgram {
  checkSetMask(mask);
  const imgs: Image[] = [];
  const img = (need: number, base: number, cs: number): Image => {
    const i: Image = { need, base, cs, val: new Uint8Array(40), msk: new Uint8Array(40) };
    imgs.push(i);
    return i;
  };
  const v = (w: number): number => (key[w]! & mask[w]!) >>> 0;
  const eth = img(NEED_ETH, BASE_L2, 0);
  putMac(eth, 0, key, mask, K.ethDst);
  putMac(eth, 6, key, mask, K.ethSrc);
  const ip4 = img(NEED_IP4, BASE_L3, CS_IP);
  putBytes(ip4, 1, 1, v(K.ipTos), mask[K.ipTos]!);
  putBytes(ip4, 8, 1, v(K.nwTtl), mask[K.nwTtl]!);
  const ip4a = img(NEED_IP4, BASE_L3, CS_IP | CS_PSEUDO);
  putBytes(ip4a, 12, 4, v(K.ipSrc), mask[K.ipSrc]!);
  putBytes(ip4a, 16, 4, v(K.ipDst), mask[K.ipDst]!);
  const ip6 = img(NEED_IP6, BASE_L3, 0);
  putBytes(ip6, 0, 4, ((v(K.ipTos) << 20) | v(K.ipv6Label)) >>> 0, (((mask[K.ipTos]! & 0xff) << 20) | (mask[K.ipv6Label]! & 0xfffff)) >>> 0);
  putBytes(ip6, 7, 1, v(K.nwTtl), mask[K.nwTtl]!);
  const ip6a = img(NEED_IP6, BASE_L3, CS_PSEUDO);
  putWide(ip6a, 8, key, mask, K.ipv6Src);
  putWide(ip6a, 24, key, mask, K.ipv6Dst);
  const arp = img(NEED_ARP, BASE_L3, 0);
  putBytes(arp, 6, 2, v(K.arpOp), mask[K.arpOp]!);
  putMac(arp, 8, key, mask, K.arpSha);
  putBytes(arp, 14, 4, v(K.arpSpa), mask[K.arpSpa]!);
  putMac(arp, 18, key, mask, K.arpTha);
  putBytes(arp, 24, 4, v(K.arpTpa), mask[K.arpTpa]!);
  const lse = (k: (w: number) => number): number => ((k(K.mplsLabel) << 12) | (k(K.mplsTc) << 9) | (k(K.mplsBos) << 8) | k(K.mplsTtl)) >>> 0;
  putBytes(img(NEED_MPLS, BASE_L3, 0), 0, 4, lse(v), lse((w) => mask[w]!));
  for (const [need, src, dst] of [[NEED_TCP, K.tcpSrc, K.tcpDst], [NEED_UDP, K.udpSrc, K.udpDst], [NEED_SCTP, K.sctpSrc, K.sctpDst]] as const) {
    const l4 = img(need, BASE_L4, CS_L4);
    putBytes(l4, 0, 2, v(src), mask[src]!);
    putBytes(l4, 2, 2, v(dst), mask[dst]!);
  }
  const icmp = img(NEED_ICMP, BASE_L4, CS_L4);
  putBytes(icmp, 0, 1, v(K.icmpType), mask[K.icmpType]!);
  putBytes(icmp, 1, 1, v(K.icmpCode), mask[K.icmpCode]!);
  const icmp6 = img(NEED_ICMP6, BASE_L4, CS_L4);
  putBytes(icmp6, 0, 1, v(K.icmpv6Type), mask[K.icmpv6Type]!);
  putBytes(icmp6, 1, 1, v(K.icmpv6Code), mask[K.icmpv6Code]!);
  const nd = img(NEED_ND, BASE_L4, CS_L4);
  putBytes(nd, 4, 4, v(K.ndReserved), mask[K.ndReserved]!);
  putWide(nd, 8, key, mask, K.ndTarget);
  putBytes(nd, 24, 1, v(K.ndOptionsType), mask[K.ndOptionsType]!);
  putMac(img(NEED_ND_SLL, BASE_L4, CS_L4), 26, key, mask, K.ndSll);
  putMac(img(NEED_ND_TLL, BASE_L4, CS_L4), 26, key, mask, K.ndTll);
  // NSH base header: O and U flags in bits 13-12 and the TTL in bits 11-6 of its first 16 bits; SPI and SI after.
  const nsh = img(NEED_NSH, BASE_L3, 0);
  putBytes(nsh, 0, 2, ((v(K.nshFlags) & 3) << 12) | ((v(K.nshTtl) & 0x3f) << 6), ((mask[K.nshFlags]! & 3) << 12) | ((mask[K.nshTtl]! & 0x3f) << 6));
  putBytes(nsh, 4, 4, (((v(K.nshSpi) & 0xffffff) << 8) | (v(K.nshSi) & 0xff)) >>> 0, (((mask[K.nshSpi]! & 0xffffff) << 8) | (mask[K.nshSi]! & 0xff)) >>> 0);
  const md1 = img(NEED_NSH_MD1, BASE_L3, 0);
  for (let c = 0; c < 4; c++) putBytes(md1, 8 + 4 * c, 4, v(K.nshC1 + c), mask[K.nshC1 + c]!);

  const out: number[] = [];
  let sctp = false;
  for (const i of imgs) {
    for (let o = 0; o < 40; o += 2) {
      const m = (i.msk[o]! << 8) | i.msk[o + 1]!;
      if (!m) continue;
      out.push(i.need, i.base, o, (i.val[o]! << 8) | i.val[o + 1]!, m, i.cs);
      if (i.need === NEED_SCTP) sctp = true;
    }
  }
  return { patches: Int32Array.from(out), n: out.length / 6, sctp };
}

function needMet(need: number): boolean {
  const type = LAY[TYPE]!;
  switch (need) {
    case NEED_ETH: return true;
    case NEED_IP4: return type === ETH_IP && LAY[PROTO]! >= 0;
    case NEED_IP6: return type === ETH_IPV6 && LAY[PROTO]! >= 0;
    case NEED_ARP: return type === ETH_ARP || type === ETH_RARP;
    case NEED_MPLS: return type === ETH_MPLS || type === ETH_MPLSM;
    case NEED_TCP: return LAY[L4]! >= 0 && LAY[PROTO] === 6;
    case NEED_UDP: return LAY[L4]! >= 0 && LAY[PROTO] === 17;
    case NEED_SCTP: return LAY[L4]! >= 0 && LAY[PROTO] === 132;
    case NEED_ICMP: return LAY[L4]! >= 0 && LAY[PROTO] === 1 && LAY[V6] === 0;
    case NEED_ICMP6: return LAY[L4]! >= 0 && LAY[PROTO] === 58 && LAY[V6] === 1;
    case NEED_ND: return LAY[ND]! >= 0;
    case NEED_ND_SLL: return LAY[ND] === ND_SOLICIT && ndOpt === ND_OPT_SLL;
    case NEED_ND_TLL: return LAY[ND] === ND_ADVERT && ndOpt === ND_OPT_TLL;
    case NEED_NSH: return LAY[NSH_MD]! >= 0;
    case NEED_NSH_MD1: return LAY[NSH_MD] === 1;
    default: return false;
  }
}

/** Where the L4 checksum of the walked frame is (relative to L4), -1 when it has none we keep. */
function l4CsumAt(): number {
  const p = LAY[PROTO]!;
  if (LAY[L4]! < 0) return -1;
  if (p === 6) return 16;
  if (p === 17) return 6;
  if ((p === 1 && !LAY[V6]) || (p === 58 && LAY[V6])) return 2;
  return -1;
}

/** Applies a compiled set to frame i of the batch (in place). */
export function applySet(batch: FrameBatch, i: number, prog: SetProgram): void {
  const b = batch.buf;
  const s = batch.off[i]!;
  const len = batch.len[i]!;
  walk(b, s, len);
  if (LAY[L3]! < 0) return;
  const p = prog.patches;
  const l3 = LAY[L3]!;
  const l4 = LAY[L4]!;
  const csAt = l4CsumAt();
  const l4cs = csAt >= 0 && l4 + csAt + 2 <= len ? s + l4 + csAt : -1;
  const udp = LAY[PROTO] === 17;
  const pseudo = !(LAY[PROTO] === 1 && !LAY[V6]);
  let ipcs = LAY[TYPE] === ETH_IP && LAY[PROTO]! >= 0 ? ((b[s + l3 + 10]! << 8) | b[s + l3 + 11]!) : -1;
  let l4sum = l4cs >= 0 ? (b[l4cs]! << 8) | b[l4cs + 1]! : -1;
  if (udp && l4sum === 0 && !LAY[V6]) l4sum = -1;   // an IPv4 UDP checksum of 0 means none
  let sctpDirty = false;
  for (let k = 0; k < prog.n; k++) {
    const need = p[k * 6]!;
    if (!needMet(need)) continue;
    const base = p[k * 6 + 1]!;
    const o = s + (base === BASE_L2 ? 0 : base === BASE_L3 ? l3 : l4) + p[k * 6 + 2]!;
    if (o + 2 > s + len) continue;
    const old = (b[o]! << 8) | b[o + 1]!;
    const m = p[k * 6 + 4]!;
    const now = (old & ~m) | p[k * 6 + 3]!;
    if (now === old) continue;
    b[o] = now >>> 8;
    b[o + 1] = now & 0xff;
    const cs = p[k * 6 + 5]!;
    if (cs & CS_IP && ipcs >= 0) ipcs = csumUpdate(ipcs, old, now);
    if (((cs & CS_PSEUDO && pseudo) || cs & CS_L4) && l4sum >= 0) l4sum = csumUpdate(l4sum, old, now);
    if (need === NEED_SCTP) sctpDirty = true;
  }
  if (ipcs >= 0) { b[s + l3 + 10] = ipcs >>> 8; b[s + l3 + 11] = ipcs & 0xff; }
  if (l4sum >= 0) {
    if (udp && l4sum === 0) l4sum = 0xffff;
    b[l4cs] = l4sum >>> 8;
    b[l4cs + 1] = l4sum & 0xff;
  }
  if (sctpDirty) fixSctp(b, s, l4, LAY[L3END]!);
}

// ------------------------------------------------------------------ push / pop

/**
 * Makes room for `grow` more bytes before frame i. `floor` is where the
 * previous frame's bytes end (the lowest byte frame i may take); `tail`
 * is the free space after every frame, used when the headroom is gone.
 * Returns false when neither has room (the packet is then dropped).
 */
export function makeRoom(batch: FrameBatch, i: number, grow: number, floor: Uint32Array, tail: { at: number }): boolean {
  const s = batch.off[i]!;
  if (s >= floor[i]! + grow) return true;
  const len = batch.len[i]!;
  const to = tail.at + Math.max(64, grow);
  if (to + len > batch.buf.length) return false;
  batch.buf.copyWithin(to, s, s + len);
  floor[i] = tail.at;
  batch.off[i] = to;
  tail.at = to + len;
  return true;
}

/** Inserts a VLAN header after the MAC addresses (room already made). */
export function pushVlan(batch: FrameBatch, i: number, tpid: number, tci: number): void {
  const b = batch.buf;
  const s = batch.off[i]!;
  if (batch.len[i]! < 12) return;
  b.copyWithin(s - 4, s, s + 12);
  const o = s + 8;
  b[o] = tpid >>> 8; b[o + 1] = tpid & 0xff;
  const t = tci & ~0x1000 & 0xffff;
  b[o + 2] = t >>> 8; b[o + 3] = t & 0xff;
  batch.off[i] = s - 4;
  batch.len[i] = batch.len[i]! + 4;
}

/** Removes the outermost VLAN header, if the frame has one. */
export function popVlan(batch: FrameBatch, i: number): void {
  const b = batch.buf;
  const s = batch.off[i]!;
  if (batch.len[i]! < 18) return;
  const t = (b[s + 12]! << 8) | b[s + 13]!;
  if (t !== ETH_VLAN && t !== ETH_QINQ) return;
  b.copyWithin(s + 4, s, s + 12);
  batch.off[i] = s + 4;
  batch.len[i] = batch.len[i]! - 4;
}

/** Inserts an MPLS label after the L2 headers and sets the ethertype before it (room already made). */
export function pushMpls(batch: FrameBatch, i: number, ethertype: number, lse: number): void {
  const b = batch.buf;
  const s = batch.off[i]!;
  const len = batch.len[i]!;
  walk(b, s, len);
  const l3 = LAY[L3]!;
  if (l3 < 0) return;
  b.copyWithin(s - 4, s, s + l3);
  const ns = s - 4;
  b[ns + l3 - 2] = ethertype >>> 8; b[ns + l3 - 1] = ethertype & 0xff;
  b[ns + l3] = lse >>> 24; b[ns + l3 + 1] = (lse >>> 16) & 0xff; b[ns + l3 + 2] = (lse >>> 8) & 0xff; b[ns + l3 + 3] = lse & 0xff;
  batch.off[i] = ns;
  batch.len[i] = len + 4;
}

/** Removes the outermost MPLS label (when the frame carries one); the ethertype becomes `ethertype`. */
export function popMpls(batch: FrameBatch, i: number, ethertype: number): void {
  const b = batch.buf;
  const s = batch.off[i]!;
  const len = batch.len[i]!;
  walk(b, s, len);
  const l3 = LAY[L3]!;
  const t = LAY[TYPE]!;
  if (l3 < 0 || (t !== ETH_MPLS && t !== ETH_MPLSM) || l3 + 4 > len) return;
  b[s + l3 - 2] = ethertype >>> 8; b[s + l3 - 1] = ethertype & 0xff;
  b.copyWithin(s + 4, s, s + l3);
  batch.off[i] = s + 4;
  batch.len[i] = len - 4;
}


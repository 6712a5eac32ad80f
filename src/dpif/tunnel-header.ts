// Tunnel headers as the userspace datapath pushes and pops them (OVS's
// netdev-native-tnl): a header template built once per megaflow (outer
// Ethernet, IPv4 with DF and TTL 64, then UDP + VXLAN, UDP + Geneve, or GRE),
// finished per packet (lengths, IPv4 checksum, a UDP source port from the
// inner flow), and the parse of a received tunnel frame into its metadata
// and inner frame. Also the header's text in tnl_push(...) as dpctl prints it.

import { TUN_MD_PRESENT_WORD, TUN_MD_SPACE_WORD } from '../flow/index.js';
import { ip4Text, hex2 } from './words.js';

export type TunnelKind = 'vxlan' | 'geneve' | 'gre';

/** OVS's name for the datapath port a kind of tunnel on a UDP port shares (vxlan_sys_4789, genev_sys_6081, gre_sys). */
export function tunnelDpName(kind: TunnelKind, udpPort: number): string {
  return kind === 'gre' ? 'gre_sys' : `${kind === 'vxlan' ? 'vxlan' : 'genev'}_sys_${udpPort}`;
}

/** OVS_VPORT_TYPE_* numbers, printed as the header's type. */
export const TUNNEL_TYPE: Readonly<Record<TunnelKind, number>> = { gre: 3, vxlan: 4, geneve: 5 };

export interface TunnelHeaderSpec {
  readonly kind: TunnelKind;
  /** GRE only: whether the header carries the key. */
  readonly keyPresent: boolean;
  readonly ethSrc: bigint;
  readonly ethDst: bigint;
  readonly ipSrc: number;
  readonly ipDst: number;
  /** VNI (VXLAN, Geneve) or GRE key. */
  readonly vni: number;
  /** UDP destination port (VXLAN, Geneve). */
  readonly dstPort: number;
  /** Geneve only: the options to carry, already encoded (encodeGeneveOption), a multiple of 4 bytes. */
  readonly geneveOpts?: Uint8Array;
}

/** A Geneve option whose type has this bit must be understood by the receiver (RFC 8926 "critical"). */
export const GENEVE_CRIT_TYPE = 0x80;
/** The most option bytes a Geneve header holds (its length field counts 4-byte words in 6 bits). */
export const GENEVE_MAX_OPTS = 252;

/** One Geneve option TLV: class, type, length in 4-byte words, then `len` data bytes (a multiple of 4, at most 124). */
export function encodeGeneveOption(optionClass: number, optionType: number, data: bigint, len: number): Uint8Array {
  const b = new Uint8Array(4 + len);
  b[0] = optionClass >>> 8;
  b[1] = optionClass & 0xff;
  b[2] = optionType;
  b[3] = len >>> 2;
  for (let i = len - 1, v = data; i >= 0; i--, v >>= 8n) b[4 + i] = Number(v & 0xffn);
  return b;
}

/**
 * Calls `fn` with each option of the `len` option bytes at `at` (class, type, where its data starts and how
 * long it is); false when an option overruns the area.
 */
export function forEachGeneveOption(buf: Uint8Array, at: number, len: number,
  fn: (optionClass: number, optionType: number, dataAt: number, dataLen: number) => void): boolean {
  for (let o = at; o < at + len;) {
    if (o + 4 > at + len) return false;
    const dataLen = (buf[o + 3]! & 0x1f) * 4;
    if (o + 4 + dataLen > at + len) return false;
    fn((buf[o]! << 8) | buf[o + 1]!, buf[o + 2]!, o + 4, dataLen);
    o += 4 + dataLen;
  }
  return true;
}

const ETH_IP = 0x0800;
const UDP = 17;
const GRE = 47;
/** Transparent Ethernet bridging: the payload type of Geneve and GRE carrying whole frames. */
const ETH_TEB = 0x6558;
const VXLAN_FLAG_VNI = 0x08;
const GRE_KEY_PRESENT = 0x2000;
const IP_OFF = 14;
const L4_OFF = 34;

/** The header bytes (lengths, checksum and UDP source port left 0: pushTunnelHeader fills them per packet). */
export function tunnelHeader(s: TunnelHeaderSpec): Uint8Array {
  const opts = s.kind === 'geneve' && s.geneveOpts ? s.geneveOpts : undefined;
  if (opts && (opts.length % 4 !== 0 || opts.length > GENEVE_MAX_OPTS)) throw new RangeError(`Geneve options of ${opts.length} bytes`);
  const size = L4_OFF + (s.kind === 'gre' ? (s.keyPresent ? 8 : 4) : 16 + (opts?.length ?? 0));
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, Number((s.ethDst >> 32n) & 0xffffn));
  dv.setUint32(2, Number(s.ethDst & 0xffffffffn));
  dv.setUint16(6, Number((s.ethSrc >> 32n) & 0xffffn));
  dv.setUint32(8, Number(s.ethSrc & 0xffffffffn));
  dv.setUint16(12, ETH_IP);
  b[IP_OFF] = 0x45;
  dv.setUint16(IP_OFF + 6, 0x4000);
  b[IP_OFF + 8] = 64;
  b[IP_OFF + 9] = s.kind === 'gre' ? GRE : UDP;
  dv.setUint32(IP_OFF + 12, s.ipSrc >>> 0);
  dv.setUint32(IP_OFF + 16, s.ipDst >>> 0);
  if (s.kind === 'gre') {
    dv.setUint16(L4_OFF, s.keyPresent ? GRE_KEY_PRESENT : 0);
    dv.setUint16(L4_OFF + 2, ETH_TEB);
    if (s.keyPresent) dv.setUint32(L4_OFF + 4, s.vni >>> 0);
  } else {
    dv.setUint16(L4_OFF + 2, s.dstPort);
    if (s.kind === 'vxlan') b[L4_OFF + 8] = VXLAN_FLAG_VNI;
    else dv.setUint16(L4_OFF + 10, ETH_TEB);
    dv.setUint32(L4_OFF + 12, (s.vni << 8) >>> 0);
    if (opts?.length) {
      // Option length in words; the critical flag when any option must be understood (as OVS's geneve header).
      b[L4_OFF + 8] = opts.length >>> 2;
      let crit = false;
      forEachGeneveOption(opts, 0, opts.length, (_c, type) => { if (type & GENEVE_CRIT_TYPE) crit = true; });
      if (crit) b[L4_OFF + 9] = 0x40;
      b.set(opts, L4_OFF + 16);
    }
  }
  return b;
}

/**
 * Writes `header` into buf just before the inner frame at `at` (of `innerLen`
 * bytes; the room must be there) and finishes it for this packet.
 */
export function pushTunnelHeader(buf: Uint8Array, at: number, innerLen: number, header: Uint8Array): void {
  const s = at - header.length;
  buf.set(header, s);
  const ipLen = header.length - IP_OFF + innerLen;
  buf[s + IP_OFF + 2] = ipLen >>> 8;
  buf[s + IP_OFF + 3] = ipLen & 0xff;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) if (i !== 10) sum += (buf[s + IP_OFF + i]! << 8) | buf[s + IP_OFF + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  buf[s + IP_OFF + 10] = ck >>> 8;
  buf[s + IP_OFF + 11] = ck & 0xff;
  if (buf[s + IP_OFF + 9] !== UDP) return;
  const udpLen = ipLen - 20;
  buf[s + L4_OFF + 4] = udpLen >>> 8;
  buf[s + L4_OFF + 5] = udpLen & 0xff;
  const sport = sourcePort(buf, at, innerLen);
  buf[s + L4_OFF] = sport >>> 8;
  buf[s + L4_OFF + 1] = sport & 0xff;
}

/**
 * A UDP source port from the inner frame's addresses and (IPv4) ports, in
 * the range OVS uses (32768-61000), so underlay ECMP spreads a tunnel's
 * flows and one flow keeps one port.
 */
function sourcePort(buf: Uint8Array, at: number, len: number): number {
  let h = 0x9e3779b9;
  const mix = (v: number): void => {
    h = Math.imul(h ^ v, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  };
  for (let i = 0; i + 3 < 12 && i + 3 < len; i += 4) mix((buf[at + i]! << 24 | buf[at + i + 1]! << 16 | buf[at + i + 2]! << 8 | buf[at + i + 3]!) >>> 0);
  if (len >= 38 && buf[at + 12] === 0x08 && buf[at + 13] === 0x00) {
    const ihl = (buf[at + 14]! & 0xf) * 4;
    for (let i = at + 26; i < at + 34; i += 4) mix((buf[i]! << 24 | buf[i + 1]! << 16 | buf[i + 2]! << 8 | buf[i + 3]!) >>> 0);
    const l4 = at + 14 + ihl;
    if (l4 + 4 <= at + len) mix((buf[l4]! << 24 | buf[l4 + 1]! << 16 | buf[l4 + 2]! << 8 | buf[l4 + 3]!) >>> 0);
  }
  return 32768 + (h % (61000 - 32768));
}

/** What a received tunnel frame's outer headers say; `inner` is where the inner frame starts in it. */
export interface TunnelMetadata {
  ipSrc: number;
  ipDst: number;
  udpDst: number;
  /** VNI or GRE key (0 when a GRE header has none). */
  key: number;
  /** Whether the header carried a key (VXLAN and Geneve always do). */
  keyPresent: boolean;
  inner: number;
  /** Geneve: where its options start (from the frame's start) and their length; 0 and 0 otherwise. */
  optsAt?: number;
  optsLen?: number;
}

/**
 * Parses the `len`-byte frame at `at` as a `kind` tunnel frame into `out`;
 * false when it is not one (wrong protocol or flags, a fragment, too short).
 */
export function parseTunnelFrame(buf: Uint8Array, at: number, len: number, kind: TunnelKind, out: TunnelMetadata): boolean {
  out.optsAt = 0;
  out.optsLen = 0;
  if (len < L4_OFF + 4) return false;
  const u16 = (o: number): number => (buf[at + o]! << 8) | buf[at + o + 1]!;
  const u32 = (o: number): number => ((buf[at + o]! << 24) | (buf[at + o + 1]! << 16) | (buf[at + o + 2]! << 8) | buf[at + o + 3]!) >>> 0;
  if (u16(12) !== ETH_IP || (buf[at + IP_OFF]! >> 4) !== 4) return false;
  const ihl = (buf[at + IP_OFF]! & 0xf) * 4;
  // A fragment cannot be decapsulated on its own.
  if (ihl < 20 || (u16(IP_OFF + 6) & 0x3fff) !== 0) return false;
  const l4 = IP_OFF + ihl;
  out.ipSrc = u32(IP_OFF + 12);
  out.ipDst = u32(IP_OFF + 16);
  if (kind === 'gre') {
    if (buf[at + IP_OFF + 9] !== GRE || len < l4 + 4) return false;
    const flags = u16(l4);
    // Checksum, routing, sequence numbers and versions other than 0 are refused (OVS does not take them either).
    if ((flags & ~GRE_KEY_PRESENT) !== 0 || u16(l4 + 2) !== ETH_TEB) return false;
    out.keyPresent = (flags & GRE_KEY_PRESENT) !== 0;
    if (len < l4 + (out.keyPresent ? 8 : 4)) return false;
    out.udpDst = 0;
    out.key = out.keyPresent ? u32(l4 + 4) : 0;
    out.inner = l4 + (out.keyPresent ? 8 : 4);
    return true;
  }
  if (buf[at + IP_OFF + 9] !== UDP || len < l4 + 16) return false;
  out.udpDst = u16(l4 + 2);
  out.keyPresent = true;
  const t = l4 + 8;
  if (kind === 'vxlan') {
    if (!(buf[at + t]! & VXLAN_FLAG_VNI)) return false;
    out.key = u32(t + 4) >>> 8;
    out.inner = t + 8;
    return true;
  }
  // Geneve: version 0, options skipped (their length in 4-byte words), an Ethernet payload only.
  const optLen = (buf[at + t]! & 0x3f) * 4;
  if (buf[at + t]! >> 6 !== 0 || u16(t + 2) !== ETH_TEB || len < t + 8 + optLen) return false;
  out.key = u32(t + 4) >>> 8;
  out.inner = t + 8 + optLen;
  out.optsAt = t + 8;
  out.optsLen = optLen;
  return true;
}

const mac = (b: Uint8Array, o: number): string => Array.from(b.subarray(o, o + 6), hex2).join(':');

/** `header(size=50,type=4,eth(...),ipv4(...),udp(...),vxlan(...))` as OVS prints a tnl_push header. */
export function formatTunnelHeader(h: Uint8Array, kind: TunnelKind): string {
  const u16 = (o: number): number => (h[o]! << 8) | h[o + 1]!;
  const u32 = (o: number): number => ((h[o]! << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!) >>> 0;
  const tos = h[IP_OFF + 1]!;
  let s = `header(size=${h.length},type=${TUNNEL_TYPE[kind]},eth(dst=${mac(h, 0)},src=${mac(h, 6)},dl_type=0x${u16(12).toString(16).padStart(4, '0')}),`
    + `ipv4(src=${ip4Text(u32(IP_OFF + 12))},dst=${ip4Text(u32(IP_OFF + 16))},proto=${h[IP_OFF + 9]},tos=${tos ? `0x${tos.toString(16)}` : '0'},`
    + `ttl=${h[IP_OFF + 8]},frag=0x${u16(IP_OFF + 6).toString(16)}),`;
  if (kind === 'gre') {
    const flags = u16(L4_OFF);
    s += `gre((flags=0x${flags.toString(16)},proto=0x${u16(L4_OFF + 2).toString(16)})`;
    if (flags & GRE_KEY_PRESENT) s += `,key=0x${u32(L4_OFF + 4).toString(16)}`;
    return `${s}))`;
  }
  s += `udp(src=${u16(L4_OFF)},dst=${u16(L4_OFF + 2)},csum=0x${u16(L4_OFF + 6).toString(16)}),`;
  const t = L4_OFF + 8;
  if (kind === 'vxlan') return `${s}vxlan(flags=0x${u32(t).toString(16)},vni=0x${(u32(t + 4) >>> 8).toString(16)}))`;
  const oam = h[t + 1]! & 0x80 ? 'oam,' : '';
  const crit = h[t + 1]! & 0x40 ? 'crit,' : '';
  const optLen = (h[t]! & 0x3f) * 4;
  return `${s}geneve(${oam}${crit}vni=0x${(u32(t + 4) >>> 8).toString(16)}${optLen ? `,options(${formatGeneveOptions(h, t + 8, optLen)})` : ''}))`;
}

/** `{class=0xffff,type=0x80,len=4,0xa}` per option, as OVS's format_geneve_opts prints them (no mask). */
export function formatGeneveOptions(b: Uint8Array, at: number, len: number): string {
  const alt = (v: number): string => (v ? `0x${v.toString(16)}` : '0');
  let s = '';
  const ok = forEachGeneveOption(b, at, len, (cls, type, dataAt, dataLen) => {
    let data = 0n;
    for (let i = 0; i < dataLen; i++) data = (data << 8n) | BigInt(b[dataAt + i]!);
    s += `{class=${alt(cls)},type=${alt(type)},len=${dataLen}${dataLen ? `,${data ? `0x${data.toString(16)}` : '0'}` : ''}}`;
  });
  return ok ? s : `${s}opt len invalid`;
}

// ---------------------------------------------------------------- received Geneve options in the key

/**
 * A decapsulated packet's Geneve options travel to the upcall as received (OVS's "UDPIF" form): the option
 * bytes in the key's option space, and in the present-map words a marker and their length, until the
 * translation puts them where the bridge's TLV mapping says (xlate's geneveOptionsToKey). Packets without
 * options never have this: their option space stays zero.
 */
const RAW_MARK = 0xffffffff;

export function putRawGeneveOptions(key: Uint32Array, buf: Uint8Array, at: number, len: number): void {
  const base = TUN_MD_SPACE_WORD(key.length);
  key.fill(0, base, base + 64);
  for (let i = 0; i < len; i++) key[base + (i >> 2)] = (key[base + (i >> 2)]! | (buf[at + i]! << (8 * (3 - (i & 3))))) >>> 0;
  const p = TUN_MD_PRESENT_WORD(key.length);
  key[p] = RAW_MARK;
  key[p + 1] = len;
}

/** Zeroes the option space and present map (a packet without options after one with them). */
export function clearGeneveOptions(key: Uint32Array): void {
  key.fill(0, TUN_MD_SPACE_WORD(key.length));
}

/** The received options a key carries in the raw form (and clears them from it), or null when it has none. */
export function takeRawGeneveOptions(key: Uint32Array): Uint8Array | null {
  const p = TUN_MD_PRESENT_WORD(key.length);
  if (key[p] !== RAW_MARK) return null;
  const len = Math.min(key[p + 1]!, GENEVE_MAX_OPTS);
  const base = TUN_MD_SPACE_WORD(key.length);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (key[base + (i >> 2)]! >>> (8 * (3 - (i & 3)))) & 0xff;
  clearGeneveOptions(key);
  return out;
}

// One in-memory match (field name → value/mask) and its three wire forms:
// OXM TLVs (OF1.2+ ofp_match), NXM TLVs (Nicira nx_match), and the fixed
// 40-byte OF1.0 ofp_match with wildcard bits. Field facts live in fields.ts.

import { OfError } from './errors.js';
import {
  CS, FIELD_BY_CODE, FIELD_BY_NAME, OFPVID_PRESENT, OFPXMC_EXPERIMENTER, codeFor, codeKey,
  type FieldCode, type MatchField, type Prereq,
} from './fields.js';
import { port10To11, port11To10 } from './port.js';
import { Reader, Writer, padTo, type Codec } from './wire.js';

export interface FieldMatch {
  readonly value: bigint;
  /** Absent means exact match. Kept as received (an all-ones mask is not folded away). */
  readonly mask?: bigint;
}

/** Field name → value/mask. Key order is wire order when encoding TLVs. */
export type Match = Readonly<Record<string, FieldMatch>>;

/** OpenFlow wire version whose codes to use; 0 means NXM (Nicira nx_match). */
export const NXM = 0;

function toBytes(v: bigint, n: number, out: Uint8Array, at: number): void {
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function fromBytes(b: Uint8Array, at: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]);
  return v;
}

function fieldOf(name: string): MatchField {
  const fm = FIELD_BY_NAME.get(name);
  if (!fm) throw new OfError('OFPBMC_BAD_FIELD', `unknown field ${name}`);
  return fm;
}

/** Checks one field's value and mask against the table (width, maskability, value outside mask). */
export function checkFieldMatch(field: MatchField, m: FieldMatch): void {
  const limit = 1n << BigInt(field.bits);
  if (m.value < 0n || m.value >= limit) throw new OfError('OFPBMC_BAD_VALUE', `${field.name}: value exceeds ${field.bits} bits`);
  if (m.mask !== undefined) {
    if (!field.maskable) throw new OfError('OFPBMC_BAD_MASK', `${field.name} cannot be masked`);
    if (m.mask < 0n || m.mask >= 1n << BigInt(field.bytes * 8)) throw new OfError('OFPBMC_BAD_MASK', `${field.name}: mask too wide`);
    if ((m.value & ~m.mask) !== 0n) throw new OfError('OFPBMC_BAD_WILDCARDS', `${field.name}: value has bits outside the mask`);
  }
}

function codeBytes(f: MatchField, c: FieldCode): number {
  return c.bytes ?? f.bytes;
}

/** Value as carried by a wire code (NXM_OF_IN_PORT holds a 16-bit port). */
function toWireValue(f: MatchField, c: FieldCode, v: bigint): bigint {
  if (codeBytes(f, c) === f.bytes) return v;
  const p = port11To10(Number(v));
  if (p === undefined) throw new OfError('OFPBMC_BAD_VALUE', `${f.name}: port ${v} has no 16-bit form`);
  return BigInt(p);
}

function fromWireValue(f: MatchField, c: FieldCode, v: bigint): bigint {
  return codeBytes(f, c) === f.bytes ? v : BigInt(port10To11(Number(v)));
}

function entrySize(f: MatchField, c: FieldCode, masked: boolean): number {
  return 4 + (c.experimenter !== undefined ? 4 : 0) + codeBytes(f, c) * (masked ? 2 : 1);
}

function tlvSize(m: Match, version: number): number {
  let n = 0;
  for (const [name, fm] of Object.entries(m)) {
    const f = fieldOf(name);
    n += entrySize(f, codeFor(f, version), fm.mask !== undefined);
  }
  return n;
}

function writeEntry(w: Writer, name: string, fm: FieldMatch, version: number): void {
  const f = fieldOf(name);
  checkFieldMatch(f, fm);
  const c = codeFor(f, version);
  const hasMask = fm.mask !== undefined;
  const n = codeBytes(f, c);
  const len = entrySize(f, c, hasMask) - 4;
  w.u32(((c.cls << 16) | (c.field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0);
  if (c.experimenter !== undefined) w.u32(c.experimenter);
  toBytes(toWireValue(f, c, fm.value), n, w.buf, w.pos);
  w.pos += n;
  if (hasMask) {
    toBytes(fm.mask as bigint, n, w.buf, w.pos);
    w.pos += n;
  }
}

function writeTlvs(w: Writer, m: Match, version: number): void {
  for (const [name, fm] of Object.entries(m)) writeEntry(w, name, fm, version);
}

/** One OXM/NXM entry: its field name and value/mask. */
export interface OxmEntry extends FieldMatch {
  readonly field: string;
}

function readEntry(r: Reader): OxmEntry {
  const header = r.sub(4, 'OFPBMC_BAD_LEN', 'match field header').u32();
  const cls = header >>> 16;
  const field = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  const len = header & 0xff;
  const body = r.sub(len, 'OFPBMC_BAD_LEN', 'match field');
  let experimenter: number | undefined;
  if (cls === OFPXMC_EXPERIMENTER) experimenter = body.u32();
  const hit = FIELD_BY_CODE.get(codeKey(cls, field, experimenter));
  if (!hit) throw new OfError('OFPBMC_BAD_FIELD', `unknown match field class 0x${cls.toString(16)} field ${field}`);
  const { field: f, code: c } = hit;
  const n = codeBytes(f, c);
  if (len !== entrySize(f, c, hasMask) - 4) {
    throw new OfError('OFPBMC_BAD_LEN', `${f.name}: length ${len}, expected ${entrySize(f, c, hasMask) - 4}`);
  }
  if (hasMask && !f.maskable) throw new OfError('OFPBMC_BAD_MASK', `${f.name} cannot be masked`);
  const value = fromWireValue(f, c, fromBytes(body.buf, body.pos, n));
  const fm: FieldMatch = hasMask ? { value, mask: fromBytes(body.buf, body.pos + n, n) } : { value };
  checkFieldMatch(f, fm);
  return { field: f.name, ...fm };
}

/** Parses TLVs until the reader's end, checking each entry and duplicates (not prerequisites). */
function readTlvs(r: Reader): Match {
  const out: Record<string, FieldMatch> = {};
  while (r.remaining > 0) {
    const { field, ...fm } = readEntry(r);
    if (Object.hasOwn(out, field)) throw new OfError('OFPBMC_DUP_FIELD', field);
    out[field] = fm;
  }
  return out;
}

/** A single OXM entry with the codes of `version` (set_field's payload). */
export function oxmEntry(version: number): Codec<OxmEntry> {
  return {
    shape: { t: 'named', name: 'oxmEntry', version },
    size: (e) => {
      const f = fieldOf(e.field);
      return entrySize(f, codeFor(f, version), e.mask !== undefined);
    },
    write: (w, e) => writeEntry(w, e.field, e.mask === undefined ? { value: e.value } : { value: e.value, mask: e.mask }, version),
    read: (r) => readEntry(r),
  };
}

const tlvCache = new Map<number, Codec<Match>>();

/** The bare TLV list (nx_match, or oxm_fields without the ofp_match wrapper) with the codes of `version` (0 = NXM). */
export function tlvFields(version: number): Codec<Match> {
  let c = tlvCache.get(version);
  if (!c) {
    c = {
      shape: { t: 'named', name: 'tlvMatch', version },
      size: (m) => tlvSize(m, version),
      write: (w, m) => writeTlvs(w, m, version),
      read: (r) => readTlvs(r),
    };
    tlvCache.set(version, c);
  }
  return c;
}

export const OFPMT_STANDARD = 0;
export const OFPMT_OXM = 1;

const oxmCache = new Map<number, Codec<Match>>();

/** ofp_match for OF1.2+ `version`: type OFPMT_OXM, length (without padding), OXM TLVs, padded to 8. */
export function oxmMatch(version: number): Codec<Match> {
  let c = oxmCache.get(version);
  if (!c) {
    c = {
      shape: { t: 'named', name: 'oxmMatch', version },
      size: (m) => padTo(4 + tlvSize(m, version), 8),
      write: (w, m) => {
        const n = 4 + tlvSize(m, version);
        w.u16(OFPMT_OXM);
        w.u16(n);
        writeTlvs(w, m, version);
        w.zeros(padTo(n, 8) - n);
      },
      read: (r) => {
        const h = r.sub(4, 'OFPBMC_BAD_LEN', 'ofp_match header');
        const type = h.u16();
        const len = h.u16();
        if (type !== OFPMT_OXM) throw new OfError('OFPBMC_BAD_TYPE', `match type ${type}`);
        if (len < 4) throw new OfError('OFPBMC_BAD_LEN', `match length ${len}`);
        const body = r.sub(len - 4, 'OFPBMC_BAD_LEN', 'oxm fields');
        const m = readTlvs(body);
        r.take(padTo(len, 8) - len, 'match padding');
        return m;
      },
    };
    oxmCache.set(version, c);
  }
  return c;
}

// ---------------------------------------------------------------- prerequisites

function exactValue(m: Match, name: string): bigint | undefined {
  const fm = m[name];
  if (!fm) return undefined;
  if (fm.mask === undefined) return fm.value;
  const f = FIELD_BY_NAME.get(name) as MatchField;
  const all = (1n << BigInt(f.bits)) - 1n;
  return (fm.mask & all) === all ? fm.value : undefined;
}

function ethTypeIs(m: Match, ...types: number[]): boolean {
  const v = exactValue(m, 'eth_type');
  return v !== undefined && types.includes(Number(v));
}

function protoIs(m: Match, proto: number, ...ethTypes: number[]): boolean {
  return ethTypeIs(m, ...ethTypes) && exactValue(m, 'nw_proto') === BigInt(proto);
}

const IP = [0x0800, 0x86dd];

function icmpv6TypeIs(m: Match, ...types: number[]): boolean {
  const v = exactValue(m, 'icmpv6_type');
  return protoIs(m, 58, 0x86dd) && v !== undefined && types.includes(Number(v));
}

const PREREQ: Record<Prereq, (m: Match) => boolean> = {
  none: () => true,
  in_port: (m) => 'in_port' in m,
  vlan: (m) => {
    const v = m.vlan_vid;
    return v !== undefined && (v.value & BigInt(OFPVID_PRESENT)) !== 0n
      && (v.mask === undefined || (v.mask & BigInt(OFPVID_PRESENT)) !== 0n);
  },
  ip: (m) => ethTypeIs(m, ...IP),
  ipv4: (m) => ethTypeIs(m, 0x0800),
  ipv6: (m) => ethTypeIs(m, 0x86dd),
  arp: (m) => ethTypeIs(m, 0x0806, 0x8035),
  mpls: (m) => ethTypeIs(m, 0x8847, 0x8848),
  pbb: (m) => ethTypeIs(m, 0x88e7),
  tcp: (m) => protoIs(m, 6, ...IP),
  udp: (m) => protoIs(m, 17, ...IP),
  sctp: (m) => protoIs(m, 132, ...IP),
  icmpv4: (m) => protoIs(m, 1, 0x0800),
  icmpv6: (m) => protoIs(m, 58, 0x86dd),
  nd: (m) => icmpv6TypeIs(m, 135, 136),
  nd_sll: (m) => icmpv6TypeIs(m, 135),
  nd_tll: (m) => icmpv6TypeIs(m, 136),
  ct: (m) => {
    const s = m.ct_state;
    const trk = BigInt(CS.TRK);
    return s !== undefined && (s.value & trk) !== 0n && (s.mask === undefined || (s.mask & trk) !== 0n);
  },
};

/** Throws OfError(BAD_PREREQ) naming the first field whose prerequisite is not matched. */
export function checkPrerequisites(m: Match): void {
  for (const name of Object.keys(m)) {
    const f = fieldOf(name);
    if (!PREREQ[f.prereq](m)) throw new OfError('OFPBMC_BAD_PREREQ', `${name} requires ${f.prereq}`);
  }
}

/** Full validation: every field known, values and masks sane, prerequisites met. */
export function validateMatch(m: Match): void {
  for (const [name, fm] of Object.entries(m)) checkFieldMatch(fieldOf(name), fm);
  checkPrerequisites(m);
}

// ---------------------------------------------------------------- OF1.0 ofp_match

export const OFPFW10 = {
  IN_PORT: 1 << 0,
  DL_VLAN: 1 << 1,
  DL_SRC: 1 << 2,
  DL_DST: 1 << 3,
  DL_TYPE: 1 << 4,
  NW_PROTO: 1 << 5,
  TP_SRC: 1 << 6,
  TP_DST: 1 << 7,
  NW_SRC_SHIFT: 8,
  NW_DST_SHIFT: 14,
  DL_VLAN_PCP: 1 << 20,
  NW_TOS: 1 << 21,
  ALL: (1 << 22) - 1,
} as const;

const OFP_VLAN_NONE = 0xffff;
const VLAN_CFI = 0x1000;
const VLAN_VID_MASK = 0x0fff;
const VLAN_PCP_MASK = 0xe000;

const OF10_MATCH_LEN = 40;

function prefixMask(wildBits: number): bigint | null | undefined {
  // undefined: exact; null: fully wildcarded; otherwise a CIDR mask.
  if (wildBits === 0) return undefined;
  if (wildBits >= 32) return null;
  return (0xffffffffn << BigInt(wildBits)) & 0xffffffffn;
}

function wildBitsOf(fm: FieldMatch | undefined, name: string): number {
  if (!fm) return 32;
  if (fm.mask === undefined || fm.mask === 0xffffffffn) return 0;
  const inv = ~fm.mask & 0xffffffffn;
  if ((inv & (inv + 1n)) !== 0n) throw new OfError('OFPBMC_BAD_NW_ADDR_MASK', `${name}: OF1.0 takes only prefix masks`);
  return inv.toString(2).replace(/^0+/, '').length;
}

/**
 * The 40-byte OF1.0 ofp_match. Decoding follows OVS: fields whose wildcard
 * bit is set are absent, and transport fields whose prerequisites are not
 * matched are dropped (the flow is normalised), so encode(decode(b)) == b only
 * for already-normal matches.
 */
export const of10Match: Codec<Match> = {
  shape: { t: 'named', name: 'of10Match' },
  fixed: OF10_MATCH_LEN,
  size: () => OF10_MATCH_LEN,
  read: (r0) => {
    const r = r0.sub(OF10_MATCH_LEN, 'OFPBRC_BAD_LEN', 'ofp_match');
    const wc = r.u32();
    const inPort = r.u16();
    const dlSrc = fromBytes(r.buf, r.take(6), 6);
    const dlDst = fromBytes(r.buf, r.take(6), 6);
    const dlVlan = r.u16();
    const dlVlanPcp = r.u8();
    r.take(1);
    const dlType = r.u16();
    const nwTos = r.u8();
    const nwProto = r.u8();
    r.take(2);
    const nwSrc = r.u32();
    const nwDst = r.u32();
    const tpSrc = r.u16();
    const tpDst = r.u16();

    const m: Record<string, FieldMatch> = {};
    const set = (name: string, value: number | bigint, mask?: bigint) => {
      m[name] = mask === undefined ? { value: BigInt(value) } : { value: BigInt(value) & mask, mask };
    };
    if (!(wc & OFPFW10.IN_PORT)) set('in_port', port10To11(inPort));
    if (!(wc & OFPFW10.DL_SRC)) set('eth_src', dlSrc);
    if (!(wc & OFPFW10.DL_DST)) set('eth_dst', dlDst);
    const vlanWild = (wc & OFPFW10.DL_VLAN) !== 0;
    const pcpWild = (wc & OFPFW10.DL_VLAN_PCP) !== 0;
    if (!vlanWild && dlVlan === OFP_VLAN_NONE) set('vlan_tci', 0);
    else if (!vlanWild && pcpWild) set('vlan_tci', (dlVlan & VLAN_VID_MASK) | VLAN_CFI, BigInt(VLAN_VID_MASK | VLAN_CFI));
    else if (!vlanWild) set('vlan_tci', (dlVlan & VLAN_VID_MASK) | VLAN_CFI | ((dlVlanPcp & 7) << 13));
    else if (!pcpWild) set('vlan_tci', ((dlVlanPcp & 7) << 13) | VLAN_CFI, BigInt(VLAN_PCP_MASK | VLAN_CFI));
    if (!(wc & OFPFW10.DL_TYPE)) {
      set('eth_type', dlType);
      const src = prefixMask((wc >>> OFPFW10.NW_SRC_SHIFT) & 0x3f);
      const dst = prefixMask((wc >>> OFPFW10.NW_DST_SHIFT) & 0x3f);
      if (dlType === 0x0800) {
        if (!(wc & OFPFW10.NW_TOS)) set('nw_tos', nwTos & 0xfc);
        if (!(wc & OFPFW10.NW_PROTO)) set('nw_proto', nwProto);
        if (src !== null) set('ip_src', nwSrc, src);
        if (dst !== null) set('ip_dst', nwDst, dst);
        const l4: Record<number, [string, string]> = {
          6: ['tcp_src', 'tcp_dst'], 17: ['udp_src', 'udp_dst'], 132: ['sctp_src', 'sctp_dst'], 1: ['icmp_type', 'icmp_code'],
        };
        const names = !(wc & OFPFW10.NW_PROTO) ? l4[nwProto] : undefined;
        if (names) {
          const wide = nwProto === 1 ? 0xff : 0xffff;
          if (!(wc & OFPFW10.TP_SRC)) set(names[0], tpSrc & wide);
          if (!(wc & OFPFW10.TP_DST)) set(names[1], tpDst & wide);
        }
      } else if (dlType === 0x0806) {
        if (!(wc & OFPFW10.NW_PROTO)) set('arp_op', nwProto);
        if (src !== null) set('arp_spa', nwSrc, src);
        if (dst !== null) set('arp_tpa', nwDst, dst);
      }
    }
    return m;
  },
  write: (w, m) => {
    const known = new Set([
      'in_port', 'eth_src', 'eth_dst', 'vlan_tci', 'eth_type', 'nw_tos', 'nw_proto', 'ip_src', 'ip_dst',
      'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmp_type', 'icmp_code',
      'arp_op', 'arp_spa', 'arp_tpa',
    ]);
    for (const [name, fm] of Object.entries(m)) {
      if (!known.has(name)) throw new OfError('OFPBMC_BAD_FIELD', `${name} cannot be expressed in an OF1.0 match`);
      checkFieldMatch(fieldOf(name), fm);
      const maskOk = fm.mask === undefined || ['ip_src', 'ip_dst', 'arp_spa', 'arp_tpa', 'vlan_tci'].includes(name);
      if (!maskOk) throw new OfError('OFPBMC_BAD_MASK', `${name} cannot be masked in an OF1.0 match`);
    }
    checkPrerequisites(m);
    // OF1.0 carries nw_tos/nw_proto only for IPv4 and the ARP opcode only for ARP (not RARP, not IPv6).
    if ((m.nw_proto || m.nw_tos) && m.eth_type?.value !== 0x0800n) throw new OfError('OFPBMC_BAD_FIELD', 'OF1.0 matches nw_proto/nw_tos only for IPv4');
    if ((m.arp_op || m.arp_spa || m.arp_tpa) && m.eth_type?.value !== 0x0806n) throw new OfError('OFPBMC_BAD_FIELD', 'OF1.0 matches arp_op only for ARP');
    let wc = OFPFW10.ALL;
    const start = w.pos;
    w.zeros(OF10_MATCH_LEN);
    const dv = w.dv;
    const put16 = (off: number, v: number) => dv.setUint16(start + off, v);
    const inPort = m.in_port;
    if (inPort) {
      const p = port11To10(Number(inPort.value));
      if (p === undefined) throw new OfError('OFPBMC_BAD_VALUE', `in_port ${inPort.value} has no OF1.0 form`);
      put16(4, p);
      wc &= ~OFPFW10.IN_PORT;
    }
    if (m.eth_src) { toBytes(m.eth_src.value, 6, w.buf, start + 6); wc &= ~OFPFW10.DL_SRC; }
    if (m.eth_dst) { toBytes(m.eth_dst.value, 6, w.buf, start + 12); wc &= ~OFPFW10.DL_DST; }
    const tci = m.vlan_tci;
    if (tci) {
      const v = Number(tci.value);
      const mask = tci.mask === undefined ? 0xffff : Number(tci.mask);
      if (mask === 0xffff && v === 0) {
        put16(18, OFP_VLAN_NONE);
        wc &= ~OFPFW10.DL_VLAN;
      } else if (mask === 0xffff && v & VLAN_CFI) {
        put16(18, v & VLAN_VID_MASK);
        w.buf[start + 20] = v >> 13;
        wc &= ~(OFPFW10.DL_VLAN | OFPFW10.DL_VLAN_PCP);
      } else if (mask === (VLAN_VID_MASK | VLAN_CFI) && v & VLAN_CFI) {
        put16(18, v & VLAN_VID_MASK);
        wc &= ~OFPFW10.DL_VLAN;
      } else if (mask === (VLAN_PCP_MASK | VLAN_CFI) && v & VLAN_CFI) {
        w.buf[start + 20] = v >> 13;
        wc &= ~OFPFW10.DL_VLAN_PCP;
      } else {
        throw new OfError('OFPBMC_BAD_WILDCARDS', 'vlan_tci mask has no OF1.0 form');
      }
    }
    if (m.eth_type) { put16(22, Number(m.eth_type.value)); wc &= ~OFPFW10.DL_TYPE; }
    if (m.nw_tos) { w.buf[start + 24] = Number(m.nw_tos.value) & 0xfc; wc &= ~OFPFW10.NW_TOS; }
    const proto = m.nw_proto ?? m.arp_op;
    if (proto) {
      if (proto.value > 0xffn) throw new OfError('OFPBMC_BAD_VALUE', 'arp_op above 255 has no OF1.0 form');
      w.buf[start + 25] = Number(proto.value);
      wc &= ~OFPFW10.NW_PROTO;
    }
    const src = m.ip_src ?? m.arp_spa;
    const dst = m.ip_dst ?? m.arp_tpa;
    dv.setUint32(start + 28, Number(src?.value ?? 0n));
    dv.setUint32(start + 32, Number(dst?.value ?? 0n));
    const srcBits = wildBitsOf(src, 'nw_src');
    const dstBits = wildBitsOf(dst, 'nw_dst');
    wc = (wc & ~(0x3f << OFPFW10.NW_SRC_SHIFT) & ~(0x3f << OFPFW10.NW_DST_SHIFT))
      | (srcBits << OFPFW10.NW_SRC_SHIFT) | (dstBits << OFPFW10.NW_DST_SHIFT);
    const tpSrc = m.tcp_src ?? m.udp_src ?? m.sctp_src ?? m.icmp_type;
    const tpDst = m.tcp_dst ?? m.udp_dst ?? m.sctp_dst ?? m.icmp_code;
    for (const [fm, off, bit] of [[tpSrc, 36, OFPFW10.TP_SRC], [tpDst, 38, OFPFW10.TP_DST]] as const) {
      if (!fm) continue;
      if (fm.mask !== undefined) throw new OfError('OFPBMC_BAD_MASK', 'OF1.0 cannot mask transport ports');
      put16(off, Number(fm.value));
      wc &= ~bit;
    }
    dv.setUint32(start, wc >>> 0);
  },
};

// One in-memory match (field name → value/mask) and its three wire forms:
// OXM TLVs (OF1.2+ ofp_match), NXM TLVs (Nicira nx_match), and the fixed
// 40-byte OF1.0 ofp_match with wildcard bits. Field facts live in fields.ts.

import { OfError } from './errors.js';
import {
  CS, FIELD_BY_NAME, MATCH_FIELDS, OFPVID_PRESENT, OFPXMC_EXPERIMENTER, codeFor,
  type FieldCode, type MatchField, type Prereq,
} from './fields.js';
import { port10To11, port11To10 } from './port.js';
import { Reader, Writer, padTo, type Codec } from './wire.js';

export interface FieldMatch {
  readonly value: bigint;
  /** Absent means exact match. Kept as received (an all-ones mask is not folded away). */
  readonly mask?: bigint;
  /**
   * Value bytes on the wire, for a variable-length field (tun_metadataN): as received, or the length a switch
   * gives it. Absent when encoding means OVS's shortest form (leading zero bytes of value and mask dropped).
   */
  readonly len?: number;
}

/** Field name → value/mask. Key order is wire order when encoding TLVs. */
export type Match = Readonly<Record<string, FieldMatch>>;

/** OpenFlow wire version whose codes to use; 0 means NXM (Nicira nx_match). */
export const NXM = 0;

function toBytes(v: bigint, n: number, out: Uint8Array, at: number): void {
  if (n <= 6) {
    // Up to 48 bits fit a double exactly: one BigInt conversion instead of one bigint shift per byte.
    let x = Number(v);
    for (let i = n - 1; i >= 0; i--) {
      const b = x % 256;
      out[at + i] = b;
      x = (x - b) / 256;
    }
    return;
  }
  for (let i = n - 1; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Bigints are immutable, so values below 2^16 (ports, ethertypes, protocols) are made once each and shared. */
const SMALL: bigint[] = [];

function fromBytes(b: Uint8Array, at: number, n: number): bigint {
  if (n <= 6) {
    let x = 0;
    for (let i = 0; i < n; i++) x = x * 256 + b[at + i];
    if (x < 0x10000) return (SMALL[x] ??= BigInt(x));
    return BigInt(x);
  }
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[at + i]);
  return v;
}

/** 1 << bits and 1 << (8 * bytes) of each table field, as bigints made once (not per checked entry). */
interface Limits {
  readonly value: bigint;
  readonly mask: bigint;
}
const LIMITS = new Map<MatchField, Limits>(MATCH_FIELDS.map((f) => [f, limitsOf(f)]));

function limitsOf(f: MatchField): Limits {
  return { value: 1n << BigInt(f.bits), mask: 1n << BigInt(f.bytes * 8) };
}

function fieldOf(name: string): MatchField {
  const fm = FIELD_BY_NAME.get(name);
  if (!fm) throw new OfError('OFPBMC_BAD_FIELD', `unknown field ${name}`);
  return fm;
}

/** Checks one field's value and mask against the table (width, maskability, value outside mask). */
export function checkFieldMatch(field: MatchField, m: FieldMatch): void {
  const limits = LIMITS.get(field) ?? limitsOf(field);
  if (m.value < 0n || m.value >= limits.value) throw new OfError('OFPBMC_BAD_VALUE', `${field.name}: value exceeds ${field.bits} bits`);
  if (field.values && !field.values.includes(m.value)) throw new OfError('OFPBMC_BAD_VALUE', `${field.name}: ${m.value} is not one of ${field.values.join(', ')}`);
  if (m.mask !== undefined) {
    if (!field.maskable) throw new OfError('OFPBMC_BAD_MASK', `${field.name} cannot be masked`);
    if (m.mask < 0n || m.mask >= limits.mask) throw new OfError('OFPBMC_BAD_MASK', `${field.name}: mask too wide`);
    if ((m.value & ~m.mask) !== 0n) throw new OfError('OFPBMC_BAD_WILDCARDS', `${field.name}: value has bits outside the mask`);
  }
}

function codeBytes(f: MatchField, c: FieldCode): number {
  return c.bytes ?? f.bytes;
}

/**
 * One wire code of one field with what reading or writing an entry needs,
 * worked out once: the TLV walk then does one integer-keyed (decode) or
 * name-keyed (encode) lookup per entry and no string building.
 */
interface WireCode {
  readonly field: MatchField;
  readonly code: FieldCode;
  /** Value bytes on the wire (the mask is as long again). */
  readonly n: number;
  /** The wire carries a 16-bit port for a 32-bit field (NXM_OF_IN_PORT). */
  readonly narrow: boolean;
  /** Entry length without a mask: experimenter id (if any) and value. */
  readonly len: number;
  /** Class and field bits of the header, without the mask bit and length. */
  readonly header: number;
}

function wireCode(f: MatchField, c: FieldCode): WireCode {
  const n = codeBytes(f, c);
  return {
    field: f, code: c, n, narrow: n !== f.bytes,
    len: (c.experimenter !== undefined ? 4 : 0) + n, header: ((c.cls << 16) | (c.field << 9)) >>> 0,
  };
}

// Decoding: standard codes by class * 128 + field, experimenter OXM codes by experimenter * 128 + field.
const BY_WIRE = new Map<number, WireCode>();
const BY_EXPERIMENTER = new Map<number, WireCode>();
for (const f of MATCH_FIELDS) {
  for (const c of f.codes) {
    if (c.cls === OFPXMC_EXPERIMENTER) BY_EXPERIMENTER.set((c.experimenter ?? 0) * 128 + c.field, wireCode(f, c));
    else BY_WIRE.set(c.cls * 128 + c.field, wireCode(f, c));
  }
}

// Encoding: the code `version` uses for each field name, filled in as names are met.
const byVersion = new Map<number, Map<string, WireCode>>();

function codesOf(version: number): Map<string, WireCode> {
  let names = byVersion.get(version);
  if (!names) byVersion.set(version, (names = new Map()));
  return names;
}

function encodeCode(names: Map<string, WireCode>, name: string, version: number): WireCode {
  let wc = names.get(name);
  if (!wc) {
    const f = fieldOf(name);
    wc = wireCode(f, codeFor(f, version));
    names.set(name, wc);
  }
  return wc;
}

/** Value as carried by a wire code (NXM_OF_IN_PORT holds a 16-bit port). */
function toWireValue(wc: WireCode, v: bigint): bigint {
  if (!wc.narrow) return v;
  const p = port11To10(Number(v));
  if (p === undefined) throw new OfError('OFPBMC_BAD_VALUE', `${wc.field.name}: port ${v} has no 16-bit form`);
  return BigInt(p);
}

const byteLen = (v: bigint): number => (v <= 0n ? 0 : Math.ceil(v.toString(16).length / 2));
const ALL_VARIABLE = (1n << BigInt(8 * 124)) - 1n;

/**
 * Value bytes and mask presence of a variable-length entry (OVS's mf_field_len): the given length, else the
 * fewest bytes holding value and mask; a mask of all ones over the whole field is no mask.
 */
export function variableEntryShape(fm: FieldMatch): { n: number; masked: boolean } {
  if (fm.len !== undefined) return { n: fm.len, masked: fm.mask !== undefined };
  const masked = fm.mask !== undefined && fm.mask !== ALL_VARIABLE;
  return { n: Math.max(byteLen(fm.value), masked ? byteLen(fm.mask as bigint) : 0), masked };
}

/** Bytes of one entry (header included). */
function entrySize(wc: WireCode, fm: FieldMatch): number {
  if (wc.field.variable) {
    const { n, masked } = variableEntryShape(fm);
    return 4 + (masked ? 2 * n : n);
  }
  return 4 + (fm.mask !== undefined ? wc.len + wc.n : wc.len);
}

function tlvSize(m: Match, version: number): number {
  let n = 0;
  const names = codesOf(version);
  for (const name of Object.keys(m)) n += entrySize(encodeCode(names, name, version), m[name]);
  return n;
}

function writeEntry(w: Writer, name: string, fm: FieldMatch, version: number, names = codesOf(version)): void {
  const wc = encodeCode(names, name, version);
  if (wc.field.variable) {
    writeVariableEntry(w, wc, fm);
    return;
  }
  // Only what the wire can carry: a value the field's rules refuse (nsh_mdtype=3, nsh_ttl=64) still goes out, as
  // ovs-ofctl sends it, and the switch's decoder answers with the error.
  const value = toWireValue(wc, fm.value);
  const room = 1n << BigInt(8 * wc.n);
  if (value < 0n || value >= room || (fm.mask !== undefined && (fm.mask < 0n || fm.mask >= room))) {
    throw new OfError('OFPBMC_BAD_VALUE', `${name}: value or mask wider than its ${wc.n} bytes`);
  }
  if (fm.mask !== undefined && !wc.field.maskable) throw new OfError('OFPBMC_BAD_MASK', `${wc.field.name} cannot be masked`);
  const hasMask = fm.mask !== undefined;
  const n = wc.n;
  const len = hasMask ? wc.len + n : wc.len;
  w.u32((wc.header | (hasMask ? 0x100 : 0) | len) >>> 0);
  if (wc.code.experimenter !== undefined) w.u32(wc.code.experimenter);
  toBytes(value, n, w.buf, w.pos);
  w.pos += n;
  if (hasMask) {
    toBytes(fm.mask as bigint, n, w.buf, w.pos);
    w.pos += n;
  }
}

function writeVariableEntry(w: Writer, wc: WireCode, fm: FieldMatch): void {
  const { n, masked } = variableEntryShape(fm);
  const room = 1n << BigInt(8 * n);
  if (n > 0xff || (masked && 2 * n > 0xff)) throw new OfError('OFPBMC_BAD_LEN', `${wc.field.name}: ${n} bytes do not fit an entry`);
  if (fm.value < 0n || fm.value >= room || (masked && ((fm.mask as bigint) < 0n || (fm.mask as bigint) >= room))) {
    throw new OfError('OFPBMC_BAD_VALUE', `${wc.field.name}: value or mask wider than its ${n} bytes`);
  }
  w.u32((wc.header | (masked ? 0x100 : 0) | (masked ? 2 * n : n)) >>> 0);
  toBytes(fm.value, n, w.buf, w.pos);
  w.pos += n;
  if (masked) {
    toBytes(fm.mask as bigint, n, w.buf, w.pos);
    w.pos += n;
  }
}

function writeTlvs(w: Writer, m: Match, version: number): void {
  const names = codesOf(version);
  for (const name of Object.keys(m)) writeEntry(w, name, m[name], version, names);
}

/** One OXM/NXM entry: its field name and value/mask. */
export interface OxmEntry extends FieldMatch {
  readonly field: string;
}

function shortOf(what: string, n: number, at: number, left: number): OfError {
  return new OfError('OFPBMC_BAD_LEN', `${what} needs ${n} bytes at offset ${at}, only ${left} left`);
}

/**
 * Reads one entry: returns its field and leaves its value/mask in `out`
 * (the TLV walk builds one object per entry, not three).
 */
function readEntryInto(r: Reader, out: { value: bigint; mask: bigint | undefined; len: number | undefined }): MatchField {
  if (r.end - r.pos < 4) throw shortOf('match field header', 4, r.pos, r.end - r.pos);
  const header = r.dv.getUint32(r.pos);
  r.pos += 4;
  const cls = header >>> 16;
  const field = (header >>> 9) & 0x7f;
  const hasMask = (header & 0x100) !== 0;
  const len = header & 0xff;
  if (len > r.end - r.pos) throw shortOf('match field', len, r.pos, r.end - r.pos);
  let at = r.pos;
  r.pos += len;
  let hit: WireCode | undefined;
  if (cls === OFPXMC_EXPERIMENTER) {
    if (len < 4) throw shortOf('field', 4, at, len);
    hit = BY_EXPERIMENTER.get(r.dv.getUint32(at) * 128 + field);
    at += 4;
  } else {
    hit = BY_WIRE.get(cls * 128 + field);
  }
  if (!hit) throw new OfError('OFPBMC_BAD_FIELD', `unknown match field class 0x${cls.toString(16)} field ${field}`);
  const f = hit.field;
  if (f.variable) {
    // Any length: the value is as long as the entry says; bytes beyond the field's width are dropped from the end,
    // as OVS copies only the leading ones.
    const width = hasMask ? len >> 1 : len;
    const n = Math.min(width, f.bytes);
    out.value = fromBytes(r.buf, at, n);
    out.mask = hasMask ? fromBytes(r.buf, at + width, n) : undefined;
    out.len = n;
    if (out.mask !== undefined && (out.value & ~out.mask) !== 0n) throw new OfError('OFPBMC_BAD_WILDCARDS', `${f.name}: value has bits outside the mask`);
    return f;
  }
  out.len = undefined;
  const n = hit.n;
  const expected = hasMask ? hit.len + n : hit.len;
  if (len !== expected) throw new OfError('OFPBMC_BAD_LEN', `${f.name}: length ${len}, expected ${expected}`);
  if (hasMask && !f.maskable) throw new OfError('OFPBMC_BAD_MASK', `${f.name} cannot be masked`);
  const raw = fromBytes(r.buf, at, n);
  out.value = hit.narrow ? BigInt(port10To11(Number(raw))) : raw;
  out.mask = hasMask ? fromBytes(r.buf, at + n, n) : undefined;
  checkFieldMatch(f, out);
  return f;
}

function readEntry(r: Reader): OxmEntry {
  const vm = { value: 0n, mask: undefined as bigint | undefined, len: undefined as number | undefined };
  const f = readEntryInto(r, vm);
  const e: OxmEntry = vm.mask === undefined ? { field: f.name, value: vm.value } : { field: f.name, value: vm.value, mask: vm.mask };
  return vm.len === undefined ? e : { ...e, len: vm.len };
}

/** Parses TLVs until the reader's end, checking each entry and duplicates (not prerequisites). */
function readTlvs(r: Reader): Match {
  const out: Record<string, FieldMatch> = {};
  const vm = { value: 0n, mask: undefined as bigint | undefined, len: undefined as number | undefined };
  while (r.remaining > 0) {
    const field = readEntryInto(r, vm).name;
    if (Object.hasOwn(out, field)) throw new OfError('OFPBMC_DUP_FIELD', field);
    const fm: FieldMatch = vm.mask === undefined ? { value: vm.value } : { value: vm.value, mask: vm.mask };
    out[field] = vm.len === undefined ? fm : { ...fm, len: vm.len };
  }
  return out;
}

/** A single OXM entry with the codes of `version` (set_field's payload). */
export function oxmEntry(version: number): Codec<OxmEntry> {
  return {
    shape: { t: 'named', name: 'oxmEntry', version },
    size: (e) => entrySize(encodeCode(codesOf(version), e.field, version), e),
    write: (w, e) => writeEntry(w, e.field, e, version),
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
        // The length is patched in after the fields (the size pass already walked them once).
        const start = w.pos;
        w.u16(OFPMT_OXM);
        w.zeros(2);
        writeTlvs(w, m, version);
        const n = w.pos - start;
        w.buf[start + 2] = n >>> 8;
        w.buf[start + 3] = n;
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
  nsh: (m) => ethTypeIs(m, 0x894f),
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

// The pipeline's view of a flow key (src/flow's Uint32Array): fields read and
// written by name, the text syntax's fields and subfields mapped onto them,
// and the wildcard mask marked as the pipeline looks at fields.

import {
  FLOW_WORDS, applyFlowToPacket, composePacket, extractFlow, fieldBits, formatFlow, getField, hasField, keyMaskToMatch, matchToKeyMask,
  readTunMetadata, setField, setTunMetadataPresent, writeTunMetadata, type TunMetadataLayout,
} from '../flow/index.js';
import { tunMetadataIndex, type Match, type SubfieldRef, type TextField } from '../openflow/index.js';

export { FLOW_WORDS, applyFlowToPacket, composePacket, extractFlow, formatFlow, keyMaskToMatch, matchToKeyMask };

export const ETH_TYPE = { IP: 0x0800, IPV6: 0x86dd, ARP: 0x0806, RARP: 0x8035, MPLS: 0x8847, MPLSM: 0x8848, VLAN: 0x8100 } as const;
export const VLAN_CFI = 0x1000;

export function newKey(): Uint32Array {
  return new Uint32Array(FLOW_WORDS);
}

const ones = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

/** Each field's all-ones value, looked up once per name (names are few; packets are many). */
const fullMasks = new Map<string, bigint>();

function fullMask(name: string): bigint {
  let m = fullMasks.get(name);
  if (m === undefined) {
    if (!hasField(name)) throw new XlateFieldError(`${name}: the pipeline cannot read or write this field`);
    m = ones(fieldBits(name));
    fullMasks.set(name, m);
  }
  return m;
}

export function fieldWidth(name: string): number {
  if (!hasField(name)) throw new XlateFieldError(`${name}: the pipeline cannot read or write this field`);
  return fieldBits(name);
}

export class XlateFieldError extends Error {
  override readonly name = 'XlateFieldError';
}

export function get(key: Uint32Array, name: string): bigint {
  return getField(key, name);
}

export function getNum(key: Uint32Array, name: string): number {
  return Number(getField(key, name));
}

export function set(key: Uint32Array, name: string, value: bigint | number): void {
  setField(key, name, BigInt(value) & fullMask(name));
}

/** Marks bits of a field as examined in the wildcard mask (all of them by default). */
export function mark(wc: Uint32Array | null, name: string, bits?: bigint): void {
  if (!wc) return;
  const all = fullMask(name);
  setField(wc, name, (getField(wc, name) | (bits ?? all)) & all);
}

export function dlType(key: Uint32Array): number {
  return getNum(key, 'eth_type');
}

export function isIp(key: Uint32Array): boolean {
  const t = dlType(key);
  return t === ETH_TYPE.IP || t === ETH_TYPE.IPV6;
}

export function isMpls(key: Uint32Array): boolean {
  const t = dlType(key);
  return t === ETH_TYPE.MPLS || t === ETH_TYPE.MPLSM;
}

export function hasVlan(key: Uint32Array): boolean {
  return (getNum(key, 'vlan_tci') & VLAN_CFI) !== 0;
}

/** The L4 port field names of the flow's transport protocol, or null. */
export function l4Ports(key: Uint32Array): readonly [string, string] | null {
  if (!isIp(key)) return null;
  switch (getNum(key, 'nw_proto')) {
    case 6: return ['tcp_src', 'tcp_dst'];
    case 17: return ['udp_src', 'udp_dst'];
    case 132: return ['sctp_src', 'sctp_dst'];
    default: return null;
  }
}

// ---------------------------------------------------------------- text fields

/** Where a text-syntax field lives: a named key field, the bits at `shift`, and bits forced on with it. */
interface FieldPlace { readonly name: string; readonly shift: number; readonly bits: number; readonly implied: bigint }

function place(f: TextField): FieldPlace {
  switch (f.name) {
    case 'dl_vlan': return { name: 'vlan_tci', shift: 0, bits: 12, implied: BigInt(VLAN_CFI) };
    case 'vlan_vid': return { name: 'vlan_tci', shift: 0, bits: 13, implied: 0n };
    case 'dl_vlan_pcp': case 'vlan_pcp': return { name: 'vlan_tci', shift: 13, bits: 3, implied: BigInt(VLAN_CFI) };
    case 'in_port': return { name: 'in_port', shift: 0, bits: 16, implied: 0n };
    default: {
      const name = f.tsw ?? f.name;
      return { name, shift: 0, bits: Math.min(f.bits, fieldWidth(name)), implied: 0n };
    }
  }
}

// tun_metadataN lives where the bridge's TLV mapping puts it (OVS's tun_metadata_read/write): an unmapped
// field reads as zero and ignores writes; a write makes the option present; the wildcards cover its bytes
// and its present bit.

function tunLoc(f: TextField, tlv: TunMetadataLayout | undefined): { index: number; loc: ReturnType<TunMetadataLayout['get']> } | null {
  const index = tunMetadataIndex(f.name);
  return index === undefined ? null : { index, loc: tlv?.get(index) };
}

function markTun(wc: Uint32Array | null, index: number, loc: NonNullable<ReturnType<TunMetadataLayout['get']>>, mask: bigint): void {
  if (!wc) return;
  writeTunMetadata(wc, loc, readTunMetadata(wc, loc) | (mask & ones(8 * loc.len)));
  setTunMetadataPresent(wc, index, true);
}

/** A field's value as the text syntax means it (in_port in its 16-bit form); tun_metadata through `tlv`. */
export function getText(key: Uint32Array, f: TextField, tlv?: TunMetadataLayout): bigint {
  const tun = tunLoc(f, tlv);
  if (tun) return tun.loc ? readTunMetadata(key, tun.loc) : 0n;
  if (f.name === 'in_port') return BigInt(port16(getNum(key, 'in_port')));
  const p = place(f);
  return (get(key, p.name) >> BigInt(p.shift)) & ones(p.bits);
}

/** Sets a field's bits under `mask` (set_field, load); returns the key-field bits it changed for the wildcard mask. */
export function setText(key: Uint32Array, f: TextField, value: bigint, mask: bigint, wc: Uint32Array | null, tlv?: TunMetadataLayout): void {
  const tun = tunLoc(f, tlv);
  if (tun) {
    if (!tun.loc) return;
    const cur = readTunMetadata(key, tun.loc);
    writeTunMetadata(key, tun.loc, (cur & ~mask) | (value & mask));
    setTunMetadataPresent(key, tun.index, true);
    markTun(wc, tun.index, tun.loc, mask);
    return;
  }
  const p = place(f);
  if (f.name === 'in_port' || f.name === 'in_port_oxm') {
    const cur = BigInt(port16(getNum(key, 'in_port')));
    const v16 = (cur & ~mask) | (value & mask);
    set(key, 'in_port', port32(Number(v16 & 0xffffn)));
    mark(wc, 'in_port');
    return;
  }
  const sh = BigInt(p.shift);
  const m = (mask & ones(p.bits)) << sh;
  const cur = get(key, p.name);
  set(key, p.name, (cur & ~m) | ((value << sh) & m) | p.implied);
  mark(wc, p.name, m | p.implied);
}

export function markText(wc: Uint32Array | null, f: TextField, mask: bigint = ones(f.bits), tlv?: TunMetadataLayout): void {
  if (!wc) return;
  const tun = tunLoc(f, tlv);
  if (tun) {
    if (tun.loc) markTun(wc, tun.index, tun.loc, mask);
    return;
  }
  const p = place(f);
  mark(wc, p.name, ((mask & ones(p.bits)) << BigInt(p.shift)) | p.implied);
}

export function getSubfield(key: Uint32Array, sf: SubfieldRef, tlv?: TunMetadataLayout): bigint {
  return (getText(key, sf.field, tlv) >> BigInt(sf.ofs)) & ones(sf.n_bits);
}

export function setSubfield(key: Uint32Array, sf: SubfieldRef, value: bigint, wc: Uint32Array | null, tlv?: TunMetadataLayout): void {
  const mask = ones(sf.n_bits) << BigInt(sf.ofs);
  setText(key, sf.field, (value << BigInt(sf.ofs)) & mask, mask, wc, tlv);
}

export function markSubfield(wc: Uint32Array | null, sf: SubfieldRef, tlv?: TunMetadataLayout): void {
  markText(wc, sf.field, ones(sf.n_bits) << BigInt(sf.ofs), tlv);
}

// ---------------------------------------------------------------- ports

/** OF1.1+ 32-bit port number of a 16-bit one (reserved ports move to 0xffffff00..). */
export function port32(p: number): number {
  return p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p;
}

export function port16(p: number): number {
  return p >= 0xffffff00 ? p - 0xffff0000 : p & 0xffff;
}

/** The key of a match (a flow with no wildcards: the trace's flow text, a packet-out's metadata); tun_metadata through `tlv`. */
export function keyOfMatch(m: Match, tlv?: TunMetadataLayout): Uint32Array {
  return matchToKeyMask(m, tlv).value;
}

// The flow key: every header and pipeline field of a packet in one flat
// Uint32Array (OVS's struct flow). Each field of the codec's match-field
// table owns whole words, its value right-aligned and big-endian across them.
// Some names are views of another field's bits, as in OVS meta-flow:
// vlan_vid/vlan_pcp of vlan_tci, nw_tos/nw_ecn/ip_dscp of the IP TOS byte,
// xreg/xxreg of the 32-bit registers (reg0 is the high half of xreg0).

import { MATCH_FIELDS, OfError, tunMetadataIndex, type FieldMatch, type Match } from '../openflow/index.js';
import { TUN_MD_PRESENT_WORD, TUN_MD_SPACE_WORD, tunMetadataFromKey, tunMetadataToKey, type TunMetadataLayout } from './tun-metadata.js';

/** Where a field lives: `bits` bits at `shift` above the low end of words [word, word+words). */
export interface FlowField {
  readonly name: string;
  readonly word: number;
  readonly words: number;
  readonly bits: number;
  readonly shift: number;
  /** The key field a view lies in (vlan_tci for vlan_vid); absent for a field of its own. */
  readonly of?: string;
}

interface ViewDef { readonly of: readonly string[]; readonly shift: number; readonly bits: number }

const VIEWS: Readonly<Record<string, ViewDef>> = {
  vlan_vid: { of: ['vlan_tci'], shift: 0, bits: 13 },
  vlan_pcp: { of: ['vlan_tci'], shift: 13, bits: 3 },
  nw_tos: { of: ['ip_tos'], shift: 0, bits: 8 },
  ip_dscp: { of: ['ip_tos'], shift: 2, bits: 6 },
  nw_ecn: { of: ['ip_tos'], shift: 0, bits: 2 },
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`xreg${i}`, { of: [`reg${2 * i}`, `reg${2 * i + 1}`], shift: 0, bits: 64 }])),
  ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`xxreg${i}`, { of: [0, 1, 2, 3].map((j) => `reg${4 * i + j}`), shift: 0, bits: 128 }])),
};

/** nw_tos in a Match is the DSCP part of the TOS byte only (OVS's NXM_OF_IP_TOS). */
const VIEW_MASK: Readonly<Record<string, bigint>> = { nw_tos: 0xfcn };

/**
 * Key words that are not match fields: the MPLS label stack entries below
 * the outermost (OVS's flow holds three; ofproto/trace prints them), and the
 * Geneve option space with its present map, last so that the datapath's
 * prefix of the key (DP_KEY_WORDS) does not grow: tun_metadataN has no slot of
 * its own but lives where the bridge's TLV mapping puts it (tun-metadata.ts).
 */
const HIDDEN: readonly (readonly [string, number])[] = [['mpls_lse1', 32], ['mpls_lse2', 32], ['tun_metadata_space', 2048], ['tun_metadata_present', 64]];

const FIELDS = new Map<string, FlowField>();
let nWords = 0;
function addSlot(name: string, bits: number): void {
  const words = Math.ceil(bits / 32);
  FIELDS.set(name, { name, word: nWords, words, bits, shift: 0 });
  nWords += words;
}
addSlot('ip_tos', 8);
for (const f of MATCH_FIELDS) if (!(f.name in VIEWS) && !f.variable) addSlot(f.name, f.bits);
for (const [name, bits] of HIDDEN) addSlot(name, bits);
for (const [name, v] of Object.entries(VIEWS)) {
  const first = FIELDS.get(v.of[0]!)!;
  const last = FIELDS.get(v.of[v.of.length - 1]!)!;
  FIELDS.set(name, { name, word: first.word, words: last.word + last.words - first.word, bits: v.bits, shift: v.shift, of: v.of.length === 1 ? v.of[0]! : v.of.join(':') });
}

/** Words in a flow key. */
export const FLOW_WORDS = nWords;

/** Every field the key holds, views included, by meta-flow name. */
export const FLOW_FIELDS: ReadonlyMap<string, FlowField> = FIELDS;

export function newFlowKey(): Uint32Array {
  return new Uint32Array(FLOW_WORDS);
}

const ones = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

function field(name: string): FlowField {
  const f = FIELDS.get(name);
  if (!f) throw new OfError('OFPBMC_BAD_FIELD', `${name} is not a field of the flow key`);
  return f;
}

function readWords(key: Uint32Array, word: number, words: number): bigint {
  if (words === 1) return BigInt(key[word]!);
  let v = 0n;
  for (let i = 0; i < words; i++) v = (v << 32n) | BigInt(key[word + i]!);
  return v;
}

function writeWords(key: Uint32Array, word: number, words: number, v: bigint): void {
  for (let i = words - 1; i >= 0; i--) {
    key[word + i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

export function hasField(name: string): boolean {
  return FIELDS.has(name);
}

/** A field's width in bits (views included). */
export function fieldBits(name: string): number {
  return field(name).bits;
}

/** The bits of a field a Match may hold (nw_tos: the DSCP bits only). */
function fullMask(f: FlowField): bigint {
  return VIEW_MASK[f.name] ?? ones(f.bits);
}

export function getField(key: Uint32Array, name: string): bigint {
  const f = field(name);
  const x = readWords(key, f.word, f.words);
  if (f.of === undefined) return x;
  return (x >> BigInt(f.shift)) & fullMask(f);
}

export function setField(key: Uint32Array, name: string, value: bigint): void {
  const f = field(name);
  if (f.of === undefined && f.shift === 0) {
    writeWords(key, f.word, f.words, value & ones(f.bits));
    return;
  }
  const m = fullMask(f) << BigInt(f.shift);
  const old = readWords(key, f.word, f.words);
  writeWords(key, f.word, f.words, (old & ~m) | ((value << BigInt(f.shift)) & m));
}

const TWO32 = 0x100000000;

/** mask |= m, value = (value & ~m) | v at a field of at most 53 bits (shift included), as doubles split into words. */
function orWordsNum(mask: Uint32Array, value: Uint32Array, f: FlowField, m: number, v: number): void {
  const last = f.word + f.words - 1;
  let ms = m * 2 ** f.shift;
  let vs = v * 2 ** f.shift;
  for (let w = last; w >= f.word && (ms !== 0 || vs !== 0); w--) {
    const mw = ms % TWO32;
    const vw = vs % TWO32;
    mask[w] = (mask[w]! | mw) >>> 0;
    value[w] = ((value[w]! & ~mw) | vw) >>> 0;
    ms = Math.floor(ms / TWO32);
    vs = Math.floor(vs / TWO32);
  }
}

/**
 * A match's value and mask as keys (value already masked). Views land on
 * their field's bits, so vlan_vid=0x1064 and vlan_tci=0x1064/0x1fff are one
 * rule; vlan_pcp implies a tag (the CFI bit), as in OVS. tun_metadataN needs
 * the bridge's TLV mapping (`tlv`) and is NXFMFC_INVALID_TLV_FIELD unmapped.
 */
export function matchToKeyMask(match: Match, tlv?: TunMetadataLayout): { value: Uint32Array; mask: Uint32Array } {
  const value = newFlowKey();
  const mask = newFlowKey();
  for (const name of Object.keys(match)) {
    const fm = match[name]!;
    const md = tunMetadataIndex(name);
    if (md !== undefined) {
      tunMetadataToKey(value, mask, md, fm, tlv);
      continue;
    }
    const f = field(name);
    const full = fullMask(f);
    const m = (fm.mask ?? full) & full;
    if (f.bits + f.shift <= 53) {
      // Fields within 53 bits (all but IPv6 addresses, 64-bit metadata and registers' views) fit a double: no BigInt steps.
      orWordsNum(mask, value, f, Number(m), Number(fm.value & m));
    } else {
      setField(mask, name, getField(mask, name) | m);
      setField(value, name, (getField(value, name) & ~m) | (fm.value & m));
    }
    if (name === 'vlan_pcp' && m !== 0n) {
      mask[W_VLAN_TCI] = mask[W_VLAN_TCI]! | VLAN_CFI;
      value[W_VLAN_TCI] = value[W_VLAN_TCI]! | VLAN_CFI;
    }
  }
  return { value, mask };
}

/**
 * The canonical Match of a key and mask: key-field names (NXM spelling), the TOS byte as nw_tos and nw_ecn;
 * tun_metadataN with the length of its mapping in `tlv` (left out without one).
 */
export function keyMaskToMatch(value: Uint32Array, mask: Uint32Array, tlv?: TunMetadataLayout): Match {
  const out: Record<string, FieldMatch> = {};
  let tunDone = false;
  for (const mf of MATCH_FIELDS) {
    const name = mf.name;
    if (mf.variable) {
      if (!tunDone && tlv) tunMetadataFromKey(value, mask, tlv, out);
      tunDone = true;
      continue;
    }
    const f = FIELDS.get(name);
    if (!f || (f.of !== undefined && name !== 'nw_tos' && name !== 'nw_ecn')) continue;
    const m = getField(mask, name);
    if (m === 0n) continue;
    const full = fullMask(f);
    const v = getField(value, name) & m;
    out[name] = m === full ? { value: v } : { value: v, mask: m };
  }
  return out;
}

/** The word of a single-word field (for integer reads on hot paths). */
export function fieldWord(name: string): number {
  const f = field(name);
  if (f.words !== 1 || f.of !== undefined) throw new RangeError(`${name} is not a single-word field of its own`);
  return f.word;
}

export function fieldSlot(name: string): { word: number; words: number; bits: number } {
  const f = field(name);
  return { word: f.word, words: f.words, bits: f.bits };
}

// ------------------------------------------------------------ integer access

export const VLAN_CFI = 0x1000;

/** Word indices of the fields the datapath and NORMAL read per packet (no bigint on those paths). */
export const W_IN_PORT = fieldWord('in_port');
export const W_ETH_TYPE = fieldWord('eth_type');
export const W_VLAN_TCI = fieldWord('vlan_tci');
/** A MAC takes two words: the top 16 bits, then the low 32. */
export const W_ETH_SRC = field('eth_src').word;
export const W_ETH_DST = field('eth_dst').word;
export const W_IP_TOS = fieldWord('ip_tos');
export const W_NW_PROTO = fieldWord('nw_proto');
export const W_NW_TTL = fieldWord('nw_ttl');
export const W_IP_FRAG = fieldWord('ip_frag');
export const W_IP_SRC = fieldWord('ip_src');
export const W_IP_DST = fieldWord('ip_dst');

export const inPort = (key: Uint32Array): number => key[W_IN_PORT]!;
export const ethType = (key: Uint32Array): number => key[W_ETH_TYPE]!;
export const vlanTci = (key: Uint32Array): number => key[W_VLAN_TCI]!;
export const nwProto = (key: Uint32Array): number => key[W_NW_PROTO]!;
/** The 48-bit MAC as a double (exact below 2^53): handy as a Map key without allocating. */
export const ethSrc = (key: Uint32Array): number => key[W_ETH_SRC]! * 0x100000000 + key[W_ETH_SRC + 1]!;
export const ethDst = (key: Uint32Array): number => key[W_ETH_DST]! * 0x100000000 + key[W_ETH_DST + 1]!;

if (field('tun_metadata_space').word !== TUN_MD_SPACE_WORD(FLOW_WORDS) || field('tun_metadata_present').word !== TUN_MD_PRESENT_WORD(FLOW_WORDS)) {
  throw new Error('flow key: the Geneve option space and present map must be the last words of the key');
}

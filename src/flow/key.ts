// The flow key: every header and pipeline field of a packet in one flat
// Uint32Array (OVS's struct flow), laid out from the codec's field table.
// A field owns whole words, its value right-aligned and big-endian across
// them. Some names are views of another field's bits, as in OVS meta-flow:
// vlan_vid/vlan_pcp of vlan_tci, nw_tos/nw_ecn/ip_dscp of the IP TOS byte,
// xreg/xxreg of the 32-bit registers.

import { MATCH_FIELDS, OfError, type Match } from '../openflow/index.js';

interface Slot {
  readonly word: number;
  readonly words: number;
  readonly bits: number;
}

/** A view: `bits` bits at `shift` inside a slot, or several slots concatenated (xreg). */
interface View {
  readonly slots: readonly string[];
  readonly shift: number;
  readonly bits: number;
}

const VIEWS: Readonly<Record<string, View>> = {
  vlan_vid: { slots: ['vlan_tci'], shift: 0, bits: 13 },
  vlan_pcp: { slots: ['vlan_tci'], shift: 13, bits: 3 },
  nw_tos: { slots: ['ip_tos'], shift: 0, bits: 8 },
  ip_dscp: { slots: ['ip_tos'], shift: 2, bits: 6 },
  nw_ecn: { slots: ['ip_tos'], shift: 0, bits: 2 },
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`xreg${i}`, { slots: [`reg${2 * i}`, `reg${2 * i + 1}`], shift: 0, bits: 64 }])),
  ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`xxreg${i}`, { slots: [0, 1, 2, 3].map((j) => `reg${4 * i + j}`), shift: 0, bits: 128 }])),
};

/** nw_tos in a Match is the DSCP part of the TOS byte only (OVS). */
const VIEW_MASK: Readonly<Record<string, bigint>> = { nw_tos: 0xfcn };

const SLOTS = new Map<string, Slot>();
let words = 0;
function addSlot(name: string, bits: number): void {
  const n = Math.ceil(bits / 32);
  SLOTS.set(name, { word: words, words: n, bits });
  words += n;
}
addSlot('ip_tos', 8);
for (const f of MATCH_FIELDS) if (!(f.name in VIEWS)) addSlot(f.name, f.bits);

/** Words in a flow key. */
export const FLOW_WORDS = words;

export function newFlowKey(): Uint32Array {
  return new Uint32Array(FLOW_WORDS);
}

const ones = (bits: number): bigint => (1n << BigInt(bits)) - 1n;

function slot(name: string): Slot {
  const s = SLOTS.get(name);
  if (!s) throw new OfError('OFPBMC_BAD_FIELD', `${name} is not a field of the flow key`);
  return s;
}

function readSlot(key: Uint32Array, s: Slot): bigint {
  if (s.words === 1) return BigInt(key[s.word]!);
  let v = 0n;
  for (let i = 0; i < s.words; i++) v = (v << 32n) | BigInt(key[s.word + i]!);
  return v;
}

function writeSlot(key: Uint32Array, s: Slot, v: bigint): void {
  if (s.words === 1) {
    key[s.word] = Number(v & 0xffffffffn);
    return;
  }
  for (let i = s.words - 1; i >= 0; i--) {
    key[s.word + i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

export function hasField(name: string): boolean {
  return name in VIEWS || SLOTS.has(name);
}

/** A field's width in bits (views included). */
export function fieldBits(name: string): number {
  const v = VIEWS[name];
  return v ? v.bits : slot(name).bits;
}

export function getField(key: Uint32Array, name: string): bigint {
  const v = VIEWS[name];
  if (!v) return readSlot(key, slot(name));
  let x = 0n;
  for (const s of v.slots) x = (x << BigInt(slot(s).bits)) | readSlot(key, slot(s));
  x = (x >> BigInt(v.shift)) & ones(v.bits);
  const vm = VIEW_MASK[name];
  return vm === undefined ? x : x & vm;
}

export function setField(key: Uint32Array, name: string, value: bigint): void {
  const v = VIEWS[name];
  if (!v) {
    const s = slot(name);
    writeSlot(key, s, value & ones(s.bits));
    return;
  }
  if (v.slots.length === 1) {
    const s = slot(v.slots[0]!);
    const m = (VIEW_MASK[name] ?? ones(v.bits)) << BigInt(v.shift);
    const old = readSlot(key, s);
    writeSlot(key, s, (old & ~m) | ((value << BigInt(v.shift)) & m));
    return;
  }
  for (let i = v.slots.length - 1; i >= 0; i--) {
    const s = slot(v.slots[i]!);
    writeSlot(key, s, value & ones(s.bits));
    value >>= BigInt(s.bits);
  }
}

/**
 * A match's value and mask as keys (value already masked). Views land on
 * their slot's bits, so vlan_vid=100 and vlan_tci=0x1064/0x1fff are one rule.
 */
export function matchToKeyMask(match: Match): { value: Uint32Array; mask: Uint32Array } {
  const value = newFlowKey();
  const mask = newFlowKey();
  for (const [name, fm] of Object.entries(match)) {
    const bits = fieldBits(name);
    const full = VIEW_MASK[name] ?? ones(bits);
    const m = (fm.mask ?? full) & full;
    setField(mask, name, getField(mask, name) | m);
    setField(value, name, (getField(value, name) & ~m) | (fm.value & m));
  }
  return { value, mask };
}

/** The canonical Match of a key and mask: slot names (NXM spelling), TOS split into nw_tos and nw_ecn. */
export function keyMaskToMatch(value: Uint32Array, mask: Uint32Array): Match {
  const out: Record<string, { value: bigint; mask?: bigint }> = {};
  for (const f of MATCH_FIELDS) {
    const name = f.name;
    if (name in VIEWS && name !== 'nw_tos' && name !== 'nw_ecn') continue;
    const m = getField(mask, name);
    if (m === 0n) continue;
    const full = VIEW_MASK[name] ?? ones(fieldBits(name));
    const v = getField(value, name) & m;
    out[name] = m === full ? { value: v } : { value: v, mask: m };
  }
  return out;
}

/** Fast accessors for single-word fields the hot path reads (word index of a slot). */
export function fieldWord(name: string): number {
  const s = slot(name);
  if (s.words !== 1) throw new RangeError(`${name} spans ${s.words} words`);
  return s.word;
}

export function fieldSlot(name: string): { word: number; words: number; bits: number } {
  return slot(name);
}

// tun_metadata0-63 in the flow key (OVS's struct tun_metadata): a 256-byte
// Geneve option space and a 64-bit map of which fields are present, the last
// 66 words of every key. A field has no fixed place: the bridge's TLV mapping
// gives it a length and the spans of option space that hold its bytes, so
// every function here takes that mapping (`TunMetadataLayout`).

import { OfError, variableEntryShape, type FieldMatch } from '../openflow/index.js';

/** Where one mapped field lives: `len` bytes, spread over `spans` of the option space (offsets and lengths in bytes). */
export interface TunMetadataLoc {
  readonly len: number;
  readonly spans: readonly { readonly offset: number; readonly len: number }[];
  /** The Geneve option the field stands for (what encapsulation writes and decapsulation looks for). */
  readonly optionClass?: number;
  readonly optionType?: number;
}

/** A bridge's mapping of tun_metadata0-63 (its TLV table): the location of field `index`, if mapped. */
export interface TunMetadataLayout {
  get(index: number): TunMetadataLoc | undefined;
  /** The field an option (class, type) is mapped to, if any (decapsulation). */
  indexOf?(optionClass: number, optionType: number): number | undefined;
}

/** Words of the option space and of the present map. */
export const TUN_MD_SPACE_WORDS = 64;
const TAIL_WORDS = TUN_MD_SPACE_WORDS + 2;

/** First word of the option space in a key of `keyWords` words. */
export const TUN_MD_SPACE_WORD = (keyWords: number): number => keyWords - TAIL_WORDS;
/** First of the two present-map words (bits 63..32, then 31..0). */
export const TUN_MD_PRESENT_WORD = (keyWords: number): number => keyWords - 2;

const ones = (bytes: number): bigint => (1n << BigInt(8 * bytes)) - 1n;

/** The mapped location of tun_metadata<index>, or NXFMFC_INVALID_TLV_FIELD. */
export function tunMetadataLoc(tlv: TunMetadataLayout | undefined, index: number): TunMetadataLoc {
  const loc = tlv?.get(index);
  if (!loc) throw new OfError('NXFMFC_INVALID_TLV_FIELD', `tun_metadata${index} is not mapped to a Geneve option`);
  return loc;
}

/** Bit `index` of the present map: word and bit within it. */
function presentBit(key: Uint32Array, index: number): { word: number; bit: number } {
  const w = TUN_MD_PRESENT_WORD(key.length);
  return index >= 32 ? { word: w, bit: (1 << (index - 32)) >>> 0 } : { word: w + 1, bit: (1 << index) >>> 0 };
}

export function tunMetadataPresent(key: Uint32Array, index: number): boolean {
  const p = presentBit(key, index);
  return (key[p.word]! & p.bit) !== 0;
}

export function setTunMetadataPresent(key: Uint32Array, index: number, present: boolean): void {
  const p = presentBit(key, index);
  key[p.word] = present ? (key[p.word]! | p.bit) >>> 0 : (key[p.word]! & ~p.bit) >>> 0;
}

/** The 64-bit present map (bit i: tun_metadata<i>). */
export function tunMetadataPresentMap(key: Uint32Array): bigint {
  const w = TUN_MD_PRESENT_WORD(key.length);
  return (BigInt(key[w]!) << 32n) | BigInt(key[w + 1]!);
}

/** Byte `o` of the option space (bytes are big-endian within each word). */
function byteAt(key: Uint32Array, base: number, o: number): number {
  return (key[base + (o >> 2)]! >>> (8 * (3 - (o & 3)))) & 0xff;
}

function putByte(key: Uint32Array, base: number, o: number, b: number): void {
  const w = base + (o >> 2);
  const sh = 8 * (3 - (o & 3));
  key[w] = ((key[w]! & ~(0xff << sh)) | (b << sh)) >>> 0;
}

/** The field's `loc.len` bytes as a number (first byte most significant), present or not. */
export function readTunMetadata(key: Uint32Array, loc: TunMetadataLoc): bigint {
  const base = TUN_MD_SPACE_WORD(key.length);
  let v = 0n;
  for (const sp of loc.spans) for (let o = sp.offset; o < sp.offset + sp.len; o++) v = (v << 8n) | BigInt(byteAt(key, base, o));
  return v;
}

/** Writes the low `loc.len` bytes of `value` into the field's spans (the present bit is the caller's). */
export function writeTunMetadata(key: Uint32Array, loc: TunMetadataLoc, value: bigint): void {
  const base = TUN_MD_SPACE_WORD(key.length);
  let left = loc.len;
  for (const sp of loc.spans) {
    for (let o = sp.offset; o < sp.offset + sp.len; o++) {
      left--;
      putByte(key, base, o, Number((value >> BigInt(8 * left)) & 0xffn));
    }
  }
}

/**
 * A value (and mask) as it came on the wire, fitted to the mapped length `len`: a longer value keeps its
 * leading bytes, as OVS copies only the first `len` of them; a shorter one is zero-extended. Exact when
 * the mask is all ones over `len` bytes (and `len` is not 0).
 */
export function fitTunMetadata(fm: FieldMatch, len: number): { value: bigint; mask: bigint; masked: boolean } {
  const { n, masked } = variableEntryShape(fm);
  const cut = n > len ? BigInt(8 * (n - len)) : 0n;
  const mask = masked ? (fm.mask as bigint) >> cut : ones(len);
  const value = (fm.value >> cut) & mask;
  return { value, mask, masked: len === 0 || mask !== ones(len) };
}

/** Puts one tun_metadataN match into a key and mask (mapping required): bytes at its spans, present bit in both. */
export function tunMetadataToKey(value: Uint32Array, mask: Uint32Array, index: number, fm: FieldMatch, tlv: TunMetadataLayout | undefined): void {
  const loc = tunMetadataLoc(tlv, index);
  const fit = fitTunMetadata(fm, loc.len);
  writeTunMetadata(value, loc, fit.value);
  writeTunMetadata(mask, loc, fit.mask);
  setTunMetadataPresent(value, index, true);
  setTunMetadataPresent(mask, index, true);
}

/**
 * The tun_metadata part of a key and mask as Match entries, by index, each with its mapped length and a
 * mask only where not all ones (OVS's tun_metadata_to_nx_match). A field the mask requires to be absent
 * has no match syntax and is left out.
 */
export function tunMetadataFromKey(value: Uint32Array, mask: Uint32Array, tlv: TunMetadataLayout, out: Record<string, FieldMatch>): void {
  let bits = tunMetadataPresentMap(mask);
  if (bits === 0n) return;
  for (let i = 0; bits; i++, bits >>= 1n) {
    if (!(bits & 1n) || !tunMetadataPresent(value, i)) continue;
    const loc = tlv.get(i);
    if (!loc) continue;
    const m = readTunMetadata(mask, loc);
    const v = readTunMetadata(value, loc) & m;
    out[`tun_metadata${i}`] = loc.len === 0 || m !== ones(loc.len) ? { value: v, mask: m, len: loc.len } : { value: v, len: loc.len };
  }
}

// A rule's match made again from what the classifier keeps of it: its mask
// (shared by the rules of a subtable) and the value words under that mask
// (OVS's minimatch). Rules then need not keep a Match object each; a dump
// makes one per rule as it writes it. What comes out is keyMaskToMatch's
// canonical form; the plan of which fields a mask covers is made once per
// mask array.

import { MATCH_FIELDS, type FieldMatch, type Match } from '../openflow/index.js';
import { FLOW_FIELDS, FLOW_WORDS, getField, newFlowKey, setField } from './key.js';
import { TUN_MD_SPACE_WORD, tunMetadataFromKey, tunMetadataPresentMap, type TunMetadataLayout } from './tun-metadata.js';

interface Part {
  /** A field's name, or '' for the tun_metadata fields (their place in the field order). */
  readonly name: string;
  /** Where each of the field's key words sits among the kept words (-1: not kept, so zero). */
  readonly at: readonly number[];
  readonly shift: bigint;
  readonly mask: bigint;
  readonly exact: boolean;
}

const ALL = (1n << 256n) - 1n;
const plans = new WeakMap<Uint32Array, readonly Part[]>();

function planOf(mask: Uint32Array): readonly Part[] {
  const known = plans.get(mask);
  if (known) return known;
  const kept = new Array<number>(mask.length).fill(-1);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) kept[i] = j++;
  const parts: Part[] = [];
  const tunAt = TUN_MD_SPACE_WORD(FLOW_WORDS);
  let tun = tunMetadataPresentMap(mask) !== 0n;
  for (const mf of MATCH_FIELDS) {
    if (mf.variable) {
      // The option space and present map are read whole, through the bridge's mapping.
      if (tun) parts.push({ name: '', at: Array.from({ length: FLOW_WORDS - tunAt }, (_, k) => kept[tunAt + k]!), shift: 0n, mask: 0n, exact: false });
      tun = false;
      continue;
    }
    const f = FLOW_FIELDS.get(mf.name);
    // Views are printed through their field, except the TOS byte's halves (as keyMaskToMatch does).
    if (!f || (f.of !== undefined && mf.name !== 'nw_tos' && mf.name !== 'nw_ecn')) continue;
    const m = getField(mask, mf.name);
    if (m === 0n) continue;
    const ones = newFlowKey();
    setField(ones, mf.name, ALL);
    parts.push({
      name: mf.name, at: Array.from({ length: f.words }, (_, k) => kept[f.word + k]!), shift: BigInt(f.shift), mask: m,
      exact: m === getField(ones, mf.name),
    });
  }
  plans.set(mask, parts);
  return parts;
}

/**
 * The canonical Match of a rule kept as (mask, words): equal to keyMaskToMatch of its whole value and mask
 * (tun_metadata named through `tlv`, the mapping the rule was added with).
 */
export function matchOfWords(mask: Uint32Array, words: ArrayLike<number>, tlv?: TunMetadataLayout): Match {
  const out: Record<string, FieldMatch> = {};
  for (const p of planOf(mask)) {
    if (p.name === '') {
      if (tlv) tunMetadataFromKey(tunValue(p, words), mask, tlv, out);
      continue;
    }
    let x = 0n;
    for (const j of p.at) x = (x << 32n) | (j < 0 ? 0n : BigInt(words[j]!));
    const v = (x >> p.shift) & p.mask;
    out[p.name] = p.exact ? { value: v } : { value: v, mask: p.mask };
  }
  return out;
}

/** A whole-size key holding only the rule's option space and present map (from the kept words). */
function tunValue(p: Part, words: ArrayLike<number>): Uint32Array {
  const key = newFlowKey();
  const at = TUN_MD_SPACE_WORD(FLOW_WORDS);
  p.at.forEach((j, k) => { if (j >= 0) key[at + k] = words[j]!; });
  return key;
}

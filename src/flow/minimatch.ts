// A rule's match made again from what the classifier keeps of it: its mask
// (shared by the rules of a subtable) and the value words under that mask
// (OVS's minimatch). Rules then need not keep a Match object each; a dump
// makes one per rule as it writes it. What comes out is keyMaskToMatch's
// canonical form; the plan of which fields a mask covers is made once per
// mask array.

import { MATCH_FIELDS, type Match } from '../openflow/index.js';
import { FLOW_FIELDS, getField, newFlowKey, setField } from './key.js';

interface Part {
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
  for (const mf of MATCH_FIELDS) {
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

/** The canonical Match of a rule kept as (mask, words): equal to keyMaskToMatch of its whole value and mask. */
export function matchOfWords(mask: Uint32Array, words: ArrayLike<number>): Match {
  const out: Record<string, { value: bigint; mask?: bigint }> = {};
  for (const p of planOf(mask)) {
    let x = 0n;
    for (const j of p.at) x = (x << 32n) | (j < 0 ? 0n : BigInt(words[j]!));
    const v = (x >> p.shift) & p.mask;
    out[p.name] = p.exact ? { value: v } : { value: v, mask: p.mask };
  }
  return out;
}

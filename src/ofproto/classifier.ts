// The OpenFlow classifier: tuple space search. Rules with the same mask share
// a subtable, a hash table keyed by the masked key; a lookup probes each
// subtable once, highest possible priority first, and stops as soon as no
// remaining subtable can beat the best rule found. The words of the mask each
// subtable checked are ORed into the caller's wildcard mask, which is what a
// datapath megaflow may wildcard.

export interface ClsRule {
  readonly priority: number;
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
}

class Subtable<T extends ClsRule> {
  /** Indexes of the mask's non-zero words: only these are hashed and compared. */
  readonly idx: Int32Array;
  readonly maskWords: Uint32Array;
  /** Masked-key hash → rules with that hash (equal keys or collisions), highest priority first. */
  readonly buckets = new Map<number, T[]>();
  maxPriority = -1;
  size = 0;
  readonly priorities = new Map<number, number>();

  constructor(readonly mask: Uint32Array, readonly maskHash: number) {
    const idx: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i]) idx.push(i);
    this.idx = Int32Array.from(idx);
    this.maskWords = Uint32Array.from(idx.map((i) => mask[i]!));
  }

  /** Hash of `key` under this subtable's mask (no allocation). */
  hashKey(key: Uint32Array): number {
    let h = 0x9e3779b9 | 0;
    const idx = this.idx;
    const mw = this.maskWords;
    for (let i = 0; i < idx.length; i++) {
      h = Math.imul(h ^ ((key[idx[i]!]! & mw[i]!) | 0), 0x01000193);
      h ^= h >>> 15;
    }
    return h;
  }

  /** Two masked values are equal on this subtable's words (the others are zero in both). */
  sameValue(a: Uint32Array, b: Uint32Array): boolean {
    const idx = this.idx;
    for (let i = 0; i < idx.length; i++) if (a[idx[i]!] !== b[idx[i]!]) return false;
    return true;
  }

  /** True when `key` under the mask equals the rule's value. */
  matches(rule: ClsRule, key: Uint32Array): boolean {
    const idx = this.idx;
    const mw = this.maskWords;
    const v = rule.value;
    for (let i = 0; i < idx.length; i++) {
      const w = idx[i]!;
      if (((key[w]! & mw[i]!) >>> 0) !== v[w]) return false;
    }
    return true;
  }

  recomputeMax(): void {
    let m = -1;
    for (const p of this.priorities.keys()) if (p > m) m = p;
    this.maxPriority = m;
  }
}

/** A number for a mask (its non-zero words and where they are), to find its subtable without building a string. */
function maskHashOf(mask: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m === 0) continue;
    h = Math.imul(h ^ i, 0x01000193);
    h = Math.imul(h ^ m, 0x01000193);
  }
  return h >>> 0;
}

/** Subtables by mask: a hash of the mask, then an exact comparison. */
class MaskIndex<T extends ClsRule> {
  private readonly byHash = new Map<number, Array<Subtable<T>>>();
  private readonly all = new Set<Subtable<T>>();

  get size(): number {
    return this.all.size;
  }

  find(mask: Uint32Array, h = maskHashOf(mask)): Subtable<T> | undefined {
    const list = this.byHash.get(h);
    if (!list) return undefined;
    for (const st of list) if (sameWords(st.mask, mask)) return st;
    return undefined;
  }

  add(st: Subtable<T>): void {
    const list = this.byHash.get(st.maskHash);
    if (list) list.push(st);
    else this.byHash.set(st.maskHash, [st]);
    this.all.add(st);
  }

  delete(st: Subtable<T>): void {
    const list = this.byHash.get(st.maskHash);
    if (list) {
      const i = list.indexOf(st);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byHash.delete(st.maskHash);
    }
    this.all.delete(st);
  }

  values(): IterableIterator<Subtable<T>> {
    return this.all.values();
  }

  clear(): void {
    this.byHash.clear();
    this.all.clear();
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Classifier<T extends ClsRule> implements Iterable<T> {
  private readonly byMask = new MaskIndex<T>();
  /** Subtables by descending max priority (re-sorted when a max changes). */
  private order: Array<Subtable<T>> = [];
  private dirty = false;
  private count = 0;

  constructor(readonly nWords: number) {}

  get size(): number {
    return this.count;
  }

  subtableCount(): number {
    return this.byMask.size;
  }

  private sorted(): Array<Subtable<T>> {
    if (this.dirty) {
      this.order = [...this.byMask.values()].sort((a, b) => b.maxPriority - a.maxPriority);
      this.dirty = false;
    }
    return this.order;
  }

  /** Adds a rule; an existing rule with identical mask, value and priority is replaced and returned. */
  insert(rule: T): T | null {
    const mh = maskHashOf(rule.mask);
    let st = this.byMask.find(rule.mask, mh);
    if (!st) {
      st = new Subtable<T>(rule.mask, mh);
      this.byMask.add(st);
      this.dirty = true;
    }
    const h = st.hashKey(rule.value);
    let bucket = st.buckets.get(h);
    if (!bucket) {
      bucket = [];
      st.buckets.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) {
      const r = bucket[i]!;
      if (r.priority === rule.priority && st.sameValue(r.value, rule.value)) {
        bucket[i] = rule;
        return r;
      }
    }
    // Highest priority first; equal priorities keep insertion order.
    let at = bucket.length;
    while (at > 0 && bucket[at - 1]!.priority < rule.priority) at--;
    bucket.splice(at, 0, rule);
    st.size++;
    this.count++;
    st.priorities.set(rule.priority, (st.priorities.get(rule.priority) ?? 0) + 1);
    if (rule.priority > st.maxPriority) {
      st.maxPriority = rule.priority;
      this.dirty = true;
    }
    return null;
  }

  remove(rule: T): boolean {
    const st = this.byMask.find(rule.mask);
    if (!st) return false;
    const h = st.hashKey(rule.value);
    const bucket = st.buckets.get(h);
    const i = bucket ? bucket.indexOf(rule) : -1;
    if (!bucket || i < 0) return false;
    bucket.splice(i, 1);
    if (bucket.length === 0) st.buckets.delete(h);
    st.size--;
    this.count--;
    const n = (st.priorities.get(rule.priority) ?? 1) - 1;
    if (n) st.priorities.set(rule.priority, n);
    else st.priorities.delete(rule.priority);
    if (st.size === 0) {
      this.byMask.delete(st);
      this.dirty = true;
    } else if (rule.priority === st.maxPriority && n === 0) {
      st.recomputeMax();
      this.dirty = true;
    }
    return true;
  }

  /** The rule with exactly this mask, value and priority (strict flow_mods). */
  findExact(value: Uint32Array, mask: Uint32Array, priority: number): T | null {
    const st = this.byMask.find(mask);
    if (!st) return null;
    const bucket = st.buckets.get(st.hashKey(value));
    if (!bucket) return null;
    for (const r of bucket) if (r.priority === priority && st.sameValue(r.value, value)) return r;
    return null;
  }

  /**
   * The mask array of the subtable holding rules with this mask, if there is
   * one: rules of a subtable can share one array instead of a copy each.
   */
  internMask(mask: Uint32Array): Uint32Array {
    return this.byMask.find(mask)?.mask ?? mask;
  }

  /**
   * The highest-priority rule matching `key` (among equal priorities, the
   * one in the subtable visited first, then the oldest). With `wc`, the mask
   * words of every subtable examined are ORed into it.
   */
  lookup(key: Uint32Array, wc?: Uint32Array): T | null {
    let best: T | null = null;
    let bestPri = -1;
    const order = this.sorted();
    for (let s = 0; s < order.length; s++) {
      const st = order[s]!;
      if (st.maxPriority <= bestPri) break;
      if (wc) {
        const idx = st.idx;
        const mw = st.maskWords;
        for (let i = 0; i < idx.length; i++) wc[idx[i]!] = (wc[idx[i]!]! | mw[i]!) >>> 0;
      }
      const bucket = st.buckets.get(st.hashKey(key));
      if (!bucket) continue;
      for (let i = 0; i < bucket.length; i++) {
        const r = bucket[i]!;
        if (r.priority <= bestPri) break;
        if (st.matches(r, key)) {
          best = r;
          bestPri = r.priority;
          break;
        }
      }
    }
    return best;
  }

  /** Rules at least as specific as (value, mask) that agree with it on its bits (loose modify/delete, stats). */
  *iterLoose(value: Uint32Array, mask: Uint32Array): Iterable<T> {
    for (const st of this.byMask.values()) {
      let covers = true;
      for (let i = 0; i < mask.length; i++) {
        if ((mask[i]! & st.mask[i]!) >>> 0 !== mask[i]) { covers = false; break; }
      }
      if (!covers) continue;
      for (const bucket of st.buckets.values()) {
        for (const r of bucket) {
          let ok = true;
          for (let i = 0; i < mask.length; i++) {
            if (((r.value[i]! & mask[i]!) >>> 0) !== value[i]) { ok = false; break; }
          }
          if (ok) yield r;
        }
      }
    }
  }

  /** Rules of the same priority that some packet could match together with `rule` (OFPFF_CHECK_OVERLAP). */
  *overlapping(rule: ClsRule): Iterable<T> {
    for (const st of this.byMask.values()) {
      if (!st.priorities.has(rule.priority)) continue;
      for (const bucket of st.buckets.values()) {
        for (const r of bucket) {
          if (r.priority !== rule.priority) continue;
          let ok = true;
          for (let i = 0; i < this.nWords; i++) {
            const both = (r.mask[i]! & rule.mask[i]!) >>> 0;
            if (((r.value[i]! ^ rule.value[i]!) & both) !== 0) { ok = false; break; }
          }
          if (ok) yield r;
        }
      }
    }
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const st of this.byMask.values()) for (const bucket of st.buckets.values()) yield* bucket;
  }

  clear(): void {
    this.byMask.clear();
    this.order = [];
    this.count = 0;
    this.dirty = false;
  }
}

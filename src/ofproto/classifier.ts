// The OpenFlow classifier: tuple space search. Rules with the same mask share
// a subtable, a hash table keyed by the masked key; a lookup probes each
// subtable once, highest possible priority first, and stops as soon as no
// remaining subtable can beat the best rule found. The words of the mask each
// subtable checked are ORed into the caller's wildcard mask, which is what a
// datapath megaflow may wildcard.

export interface ClsRule {
  readonly priority: number;
  readonly mask: Uint32Array;
  /**
   * The rule's value on its mask's non-zero words only, in word order (OVS's
   * minimatch): a rule keeps a few words, not a whole flow key.
   */
  readonly words: readonly number[];
}

/**
 * The words of `value` where `mask` is non-zero, in order: what a ClsRule keeps. A plain array: a few numbers
 * in one cost a third of a small typed array (which carries a buffer object as well).
 */
export function compactWords(value: Uint32Array, mask: Uint32Array): number[] {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  const out = new Array<number>(n);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) out[j++] = (value[i]! & mask[i]!) >>> 0;
  return out;
}

/** A rule's value as a whole flow key (zero where its mask is). */
export function expandWords(rule: ClsRule): Uint32Array {
  const out = new Uint32Array(rule.mask.length);
  for (let i = 0, j = 0; i < rule.mask.length; i++) if (rule.mask[i]) out[i] = rule.words[j++]!;
  return out;
}

class Subtable<T extends ClsRule> {
  /** Indexes of the mask's non-zero words: only these are hashed and compared. */
  readonly idx: Int32Array;
  readonly maskWords: Uint32Array;
  /**
   * Positions in idx in the order they are hashed: stage by stage (metadata, L2, L3, L4), so a lookup can stop
   * after a stage no rule agrees with and leave the later stages' fields wildcarded (OVS's staged lookup).
   */
  readonly order: Int32Array;
  /** How many of `order` each stage ends at (stages without words left out). */
  readonly stageEnds: Int32Array;
  /** For each stage but the last: the hashes of the words up to its end that some rule has. */
  readonly stageHashes: HashCounts[];
  /**
   * Masked-key hash → the rule with that hash, or the rules (equal keys or collisions) highest priority first:
   * most hashes have one rule, which then needs no array.
   */
  readonly buckets = new Map<number, T | T[]>();
  maxPriority = -1;
  size = 0;
  readonly priorities = new Map<number, number>();

  constructor(readonly mask: Uint32Array, readonly maskHash: number, stageOf: Uint8Array | undefined) {
    const idx: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i]) idx.push(i);
    this.idx = Int32Array.from(idx);
    this.maskWords = Uint32Array.from(idx.map((i) => mask[i]!));
    const stage = (j: number): number => stageOf?.[idx[j]!] ?? 0;
    const order = idx.map((_, j) => j).sort((a, b) => stage(a) - stage(b) || a - b);
    this.order = Int32Array.from(order);
    const ends: number[] = [];
    order.forEach((j, k) => {
      if (k + 1 === order.length || stage(order[k + 1]!) !== stage(j)) ends.push(k + 1);
    });
    this.stageEnds = Int32Array.from(ends);
    this.stageHashes = ends.slice(0, -1).map(() => new HashCounts());
  }

  /** The running hash at the end of each stage but the last, as the latest hashWords left it. */
  private readonly partials: Int32Array = new Int32Array(4);

  /** Hash of a rule's compact words: equal to hashKey of any key the rule matches. */
  hashWords(words: readonly number[]): number {
    let h = HASH_SEED;
    const order = this.order;
    const ends = this.stageEnds;
    for (let k = 0, g = 0; k < order.length; k++) {
      h = mix(h, words[order[k]!]! | 0);
      if (k + 1 === ends[g]) this.partials[g++] = h;
    }
    return h;
  }

  /** Hash of `key` under this subtable's mask (no allocation). */
  hashKey(key: Uint32Array): number {
    let h = HASH_SEED;
    const idx = this.idx;
    const mw = this.maskWords;
    const order = this.order;
    for (let k = 0; k < order.length; k++) {
      const j = order[k]!;
      h = mix(h, (key[idx[j]!]! & mw[j]!) | 0);
    }
    return h;
  }

  /** Counts (delta 1) or forgets (-1) the stage hashes of the rule whose words hashWords took last. */
  countStages(delta: number): void {
    for (let g = 0; g < this.stageHashes.length; g++) this.stageHashes[g]!.add(this.partials[g]!, delta);
  }

  /** True when `key` under the mask equals the rule's value. */
  matches(rule: ClsRule, key: Uint32Array): boolean {
    const idx = this.idx;
    const mw = this.maskWords;
    const v = rule.words;
    for (let i = 0; i < idx.length; i++) {
      if (((key[idx[i]!]! & mw[i]!) >>> 0) !== v[i]) return false;
    }
    return true;
  }

  *rules(): Generator<T> {
    for (const b of this.buckets.values()) {
      if (Array.isArray(b)) yield* b;
      else yield b;
    }
  }

  recomputeMax(): void {
    let m = -1;
    for (const p of this.priorities.keys()) if (p > m) m = p;
    this.maxPriority = m;
  }
}

/** A number for a mask (its non-zero words and where they are), to find its subtable without building a string. */
const HASH_SEED = 0x9e3779b9 | 0;

/**
 * A multiset of 32-bit hashes in two typed arrays (open addressing, linear probing): the staged lookup asks it
 * once per stage per subtable, so membership is a few integer reads, not a Map lookup. A hash whose count
 * falls to zero keeps its slot (so probe chains stay whole) until the table is rebuilt.
 */
class HashCounts {
  private keys = new Int32Array(8);
  private counts = new Int32Array(8);
  /** Slots taken (counts > 0 or kept at zero). */
  private used = 0;
  private live = 0;

  /** Slots ever written since the last rebuild (a key may be 0, so the keys alone cannot say). */
  private marks = new Int32Array(1);

  has(h: number): boolean {
    const m = this.keys.length - 1;
    for (let i = h & m; this.taken(i); i = (i + 1) & m) if (this.keys[i] === h) return this.counts[i]! > 0;
    return false;
  }

  add(h: number, delta: number): void {
    const m = this.keys.length - 1;
    let i = h & m;
    for (; this.taken(i); i = (i + 1) & m) {
      if (this.keys[i] === h) {
        const before = this.counts[i]!;
        this.counts[i] = before + delta;
        if (before === 0 && delta > 0) this.live++;
        if (before > 0 && before + delta <= 0) this.live--;
        return;
      }
    }
    if (delta <= 0) return;
    this.keys[i] = h;
    this.counts[i] = delta;
    this.marks[i >> 5]! |= 1 << (i & 31);
    this.used++;
    this.live++;
    if (this.used * 2 > this.keys.length) this.rebuild(this.live * 4 > this.keys.length ? this.keys.length * 2 : this.keys.length);
  }

  private taken(i: number): boolean {
    return (this.marks[i >> 5]! & (1 << (i & 31))) !== 0;
  }

  private rebuild(size: number): void {
    const keys = this.keys;
    const counts = this.counts;
    const was = this.marks;
    this.keys = new Int32Array(size);
    this.counts = new Int32Array(size);
    this.marks = new Int32Array(Math.max(1, size >> 5));
    this.used = 0;
    this.live = 0;
    for (let i = 0; i < keys.length; i++) {
      if ((was[i >> 5]! & (1 << (i & 31))) !== 0 && counts[i]! > 0) this.add(keys[i]!, counts[i]!);
    }
  }
}

/** One word into a running hash (the same steps for keys and rules' words, stage by stage). */
function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x01000193);
  return h ^ (h >>> 15);
}

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

function sameWords(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Classifier<T extends ClsRule> implements Iterable<T> {
  private readonly byMask = new MaskIndex<T>();
  /** Subtables by their own mask array: rules share it (internMask), so finding a rule's subtable ends here. */
  private byIdentity = new WeakMap<Uint32Array, Subtable<T>>();
  /** Subtables by descending max priority (re-sorted when a max changes). */
  private order: Array<Subtable<T>> = [];
  private dirty = false;
  private count = 0;

  /**
   * `stageOf` gives each key word's lookup stage (0 metadata, 1 L2, 2 L3, 3 L4); without it every subtable is
   * one stage and a lookup un-wildcards all of a subtable's fields.
   */
  constructor(readonly nWords: number, private readonly stageOf?: Uint8Array) {}

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

  /** The subtable of rules with this mask, if any: by identity for a rule's (shared) mask, else by contents. */
  private subtableOf(mask: Uint32Array): Subtable<T> | undefined {
    return this.byIdentity.get(mask) ?? this.byMask.find(mask);
  }

  /** Adds a rule; an existing rule with identical mask, value and priority is replaced and returned. */
  insert(rule: T): T | null {
    let st = this.subtableOf(rule.mask);
    if (!st) {
      st = new Subtable<T>(rule.mask, maskHashOf(rule.mask), this.stageOf);
      this.byMask.add(st);
      this.byIdentity.set(rule.mask, st);
      this.dirty = true;
    }
    const h = st.hashWords(rule.words);
    const found = st.buckets.get(h);
    if (found === undefined) {
      st.buckets.set(h, rule);
    } else {
      const replaced = this.addToBucket(st, h, found, rule);
      if (replaced) return replaced;
    }
    st.size++;
    st.countStages(1);
    this.count++;
    st.priorities.set(rule.priority, (st.priorities.get(rule.priority) ?? 0) + 1);
    if (rule.priority > st.maxPriority) {
      st.maxPriority = rule.priority;
      this.dirty = true;
    }
    return null;
  }

  /** Puts `rule` among the rules with its hash; the rule it replaces (same words and priority), if any. */
  private addToBucket(st: Subtable<T>, h: number, found: T | T[], rule: T): T | null {
    let bucket: T[];
    if (Array.isArray(found)) {
      bucket = found;
    } else if (found.priority === rule.priority && sameWords(found.words, rule.words)) {
      st.buckets.set(h, rule);
      return found;
    } else {
      bucket = [found];
      st.buckets.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) {
      const r = bucket[i]!;
      if (r.priority === rule.priority && sameWords(r.words, rule.words)) {
        bucket[i] = rule;
        return r;
      }
    }
    // Highest priority first; equal priorities keep insertion order.
    let at = bucket.length;
    while (at > 0 && bucket[at - 1]!.priority < rule.priority) at--;
    bucket.splice(at, 0, rule);
    return null;
  }

  remove(rule: T): boolean {
    const st = this.subtableOf(rule.mask);
    if (!st) return false;
    const h = st.hashWords(rule.words);
    const bucket = st.buckets.get(h);
    if (bucket === rule) {
      st.buckets.delete(h);
    } else {
      const i = Array.isArray(bucket) ? bucket.indexOf(rule) : -1;
      if (!Array.isArray(bucket) || i < 0) return false;
      bucket.splice(i, 1);
      if (bucket.length === 1) st.buckets.set(h, bucket[0]!);
    }
    st.size--;
    st.countStages(-1);
    this.count--;
    const n = (st.priorities.get(rule.priority) ?? 1) - 1;
    if (n) st.priorities.set(rule.priority, n);
    else st.priorities.delete(rule.priority);
    if (st.size === 0) {
      this.byMask.delete(st);
      this.byIdentity.delete(st.mask);
      this.dirty = true;
    } else if (rule.priority === st.maxPriority && n === 0) {
      st.recomputeMax();
      this.dirty = true;
    }
    return true;
  }

  /** The rule with exactly this mask, value and priority (strict flow_mods). */
  findExact(value: Uint32Array, mask: Uint32Array, priority: number): T | null {
    const st = this.subtableOf(mask);
    if (!st) return null;
    const bucket = st.buckets.get(st.hashKey(value));
    if (bucket === undefined) return null;
    if (!Array.isArray(bucket)) return bucket.priority === priority && st.matches(bucket, value) ? bucket : null;
    for (const r of bucket) if (r.priority === priority && st.matches(r, value)) return r;
    return null;
  }

  /**
   * The mask array of the subtable holding rules with this mask, if there is
   * one: rules of a subtable can share one array instead of a copy each.
   */
  internMask(mask: Uint32Array): Uint32Array {
    return this.subtableOf(mask)?.mask ?? mask;
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
      // Hash stage by stage; after a stage no rule of the subtable agrees with, the rest stays wildcarded.
      const idx = st.idx;
      const mw = st.maskWords;
      const ord = st.order;
      const ends = st.stageEnds;
      const partial = st.stageHashes;
      let h = HASH_SEED;
      let k = 0;
      let missed = false;
      for (let g = 0; g < ends.length; g++) {
        for (const end = ends[g]!; k < end; k++) {
          const j = ord[k]!;
          h = mix(h, (key[idx[j]!]! & mw[j]!) | 0);
        }
        if (g < partial.length && !partial[g]!.has(h)) {
          missed = true;
          break;
        }
      }
      if (wc) {
        for (let q = 0; q < k; q++) {
          const j = ord[q]!;
          wc[idx[j]!] = (wc[idx[j]!]! | mw[j]!) >>> 0;
        }
      }
      if (missed) continue;
      const bucket = st.buckets.get(h);
      if (bucket === undefined) continue;
      if (!Array.isArray(bucket)) {
        if (bucket.priority > bestPri && st.matches(bucket, key)) {
          best = bucket;
          bestPri = bucket.priority;
        }
        continue;
      }
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
      // The query's mask lies within the subtable's, so every word it checks is one the rules keep.
      const idx = st.idx;
      for (const r of st.rules()) {
        let ok = true;
        for (let j = 0; j < idx.length; j++) {
          const w = idx[j]!;
          if (((r.words[j]! & mask[w]!) >>> 0) !== value[w]) { ok = false; break; }
        }
        if (ok) yield r;
      }
    }
  }

  /** Rules of priority `priority` that some packet could match together with (value, mask) (OFPFF_CHECK_OVERLAP). */
  *overlapping(value: Uint32Array, mask: Uint32Array, priority: number): Iterable<T> {
    for (const st of this.byMask.values()) {
      if (!st.priorities.has(priority)) continue;
      const idx = st.idx;
      const mw = st.maskWords;
      for (const r of st.rules()) {
        if (r.priority !== priority) continue;
        let ok = true;
        for (let j = 0; j < idx.length; j++) {
          const w = idx[j]!;
          if (((r.words[j]! ^ value[w]!) & mask[w]! & mw[j]!) !== 0) { ok = false; break; }
        }
        if (ok) yield r;
      }
    }
  }

  /** True when `rule` matches every packet (value, mask) matches: it is at least as specific and agrees on the bits. */
  static covers(rule: ClsRule, value: Uint32Array, mask: Uint32Array): boolean {
    for (let i = 0, j = 0; i < mask.length; i++) {
      const rm = rule.mask[i]!;
      if ((mask[i]! & rm) >>> 0 !== mask[i]) return false;
      if (rm && ((rule.words[j++]! & mask[i]!) >>> 0) !== value[i]) return false;
    }
    return true;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const st of this.byMask.values()) yield* st.rules();
  }

  clear(): void {
    this.byMask.clear();
    this.byIdentity = new WeakMap();
    this.order = [];
    this.count = 0;
    this.dirty = false;
  }
}

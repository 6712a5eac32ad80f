// The megaflow cache (OVS's dpcls): translations kept by the wildcard mask
// of everything they looked at, so one upcall covers every packet that
// agrees on those bits. Subtables hold the flows of one mask, each a hash of
// masked keys; lookups try subtables in order of hits. Per-packet work is
// integer arithmetic on the flow key's words: no allocation on a hit.

/** One cached flow: the masked key, its mask, and what the owner keeps with it. */
export interface Megaflow<T> {
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  readonly value: T;
  packets: number;
  bytes: number;
  /** Last hit, milliseconds (the owner's clock). */
  used: number;
}

interface Subtable<T> {
  readonly mask: Uint32Array;
  /** The words the mask has bits in: only these are hashed and compared. */
  readonly words: Uint16Array;
  readonly buckets: Map<number, Megaflow<T>[]>;
  count: number;
  hits: number;
}

const sameWords = (a: Uint32Array, b: Uint32Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** FNV-1a style mixing of the masked words (32-bit, integer only). */
function hashMasked(key: Uint32Array, mask: Uint32Array, words: Uint16Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    h = Math.imul(h ^ ((key[w]! & mask[w]!) >>> 0), 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

export class MegaflowCache<T> {
  private subtables: Subtable<T>[] = [];
  private lookupsSinceSort = 0;
  /** Flows in the cache. */
  count = 0;
  hits = 0;
  misses = 0;
  /** Subtables examined on hits (OVS's "avg. subtable lookups per megaflow hit"). */
  subtableLookups = 0;

  constructor(readonly maxFlows = 200_000) {}

  /** The flow covering `key`, or undefined. */
  lookup(key: Uint32Array): Megaflow<T> | undefined {
    if (++this.lookupsSinceSort >= 1024) this.rank();
    const subtables = this.subtables;
    for (let s = 0; s < subtables.length; s++) {
      const st = subtables[s]!;
      const bucket = st.buckets.get(hashMasked(key, st.mask, st.words));
      if (bucket === undefined) continue;
      for (let b = 0; b < bucket.length; b++) {
        const f = bucket[b]!;
        let ok = true;
        for (let i = 0; i < st.words.length; i++) {
          const w = st.words[i]!;
          if (((key[w]! & st.mask[w]!) >>> 0) !== f.key[w]) { ok = false; break; }
        }
        if (ok) {
          st.hits++;
          this.hits++;
          this.subtableLookups += s + 1;
          return f;
        }
      }
    }
    this.misses++;
    return undefined;
  }

  /** Adds a flow for (key & mask); false when the cache is full. An equal flow already there is replaced. */
  insert(key: Uint32Array, mask: Uint32Array, value: T, now: number): Megaflow<T> | null {
    let st = this.subtables.find((t) => sameWords(t.mask, mask));
    if (!st) {
      const words: number[] = [];
      for (let i = 0; i < mask.length; i++) if (mask[i]) words.push(i);
      st = { mask: Uint32Array.from(mask), words: Uint16Array.from(words), buckets: new Map(), count: 0, hits: 0 };
      this.subtables.push(st);
    }
    const masked = new Uint32Array(key.length);
    for (let i = 0; i < key.length; i++) masked[i] = (key[i]! & mask[i]!) >>> 0;
    const h = hashMasked(masked, st.mask, st.words);
    const bucket = st.buckets.get(h) ?? [];
    const at = bucket.findIndex((f) => sameWords(f.key, masked));
    const flow: Megaflow<T> = { key: masked, mask: st.mask, value, packets: 0, bytes: 0, used: now };
    if (at >= 0) {
      bucket[at] = flow;
    } else {
      if (this.count >= this.maxFlows) return null;
      bucket.push(flow);
      st.count++;
      this.count++;
    }
    st.buckets.set(h, bucket);
    return flow;
  }

  /** Removes every flow `drop` says to (revalidation, idle expiry). */
  sweep(drop: (f: Megaflow<T>) => boolean): number {
    let n = 0;
    for (const st of this.subtables) {
      for (const [h, bucket] of st.buckets) {
        const keep = bucket.filter((f) => !drop(f));
        n += bucket.length - keep.length;
        st.count -= bucket.length - keep.length;
        if (keep.length) st.buckets.set(h, keep);
        else st.buckets.delete(h);
      }
    }
    this.subtables = this.subtables.filter((st) => st.count > 0);
    this.count -= n;
    return n;
  }

  clear(): void {
    this.subtables = [];
    this.count = 0;
  }

  /** Masks in use (OVS's "masks: total"). */
  get masks(): number {
    return this.subtables.length;
  }

  *flows(): Iterable<Megaflow<T>> {
    for (const st of this.subtables) for (const b of st.buckets.values()) yield* b;
  }

  /** Busiest subtables first, as dpcls re-sorts them. */
  private rank(): void {
    this.lookupsSinceSort = 0;
    this.subtables.sort((a, b) => b.hits - a.hits);
    for (const st of this.subtables) st.hits >>>= 1;
  }
}

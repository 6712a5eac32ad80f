// The datapath classifier (OVS's dpcls) and exact-match cache (EMC).
// Megaflows live in subtables, one per mask, each a hash of masked keys
// chained through the flows themselves; lookups try subtables busiest first
// and re-rank them every few thousand lookups. The EMC remembers, for a
// packet's full key, which megaflow it hit. Per-packet work is integer
// arithmetic over the flow key's words: nothing is allocated on a lookup.

import { DP_KEY_WORDS, K } from './words.js';

/** What the classifier needs of a flow; the datapath's flow object extends it. */
export interface ClassifiedFlow {
  /** The flow's key with the mask applied. */
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  /** Set when the flow left the classifier (EMC entries pointing at it are then misses). */
  dead: boolean;
  /** Next flow in the same hash bucket. */
  chain: ClassifiedFlow | null;
  hash: number;
  subtable: Subtable | null;
}

export interface Subtable {
  readonly mask: Uint32Array;
  /** Words the mask has bits in, and their mask values (dense, for the hash loop). */
  readonly words: Uint16Array;
  readonly maskWords: Uint32Array;
  readonly buckets: Map<number, ClassifiedFlow>;
  count: number;
  hits: number;
}

function hashMasked(key: Uint32Array, words: Uint16Array, maskWords: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) {
    h = Math.imul(h ^ ((key[words[i]!]! & maskWords[i]!) >>> 0), 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

function sameMask(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lookups between re-rankings of the subtables. */
const RANK_EVERY = 8192;

export class Dpcls<F extends ClassifiedFlow> {
  private subtables: Subtable[] = [];
  private lookupsSinceRank = 0;
  count = 0;
  /** Subtables examined by the last successful lookup (OVS's "avg. subtable lookups per megaflow hit"). */
  lastSubtables = 0;

  /** The flow covering `key`, or null. */
  lookup(key: Uint32Array): F | null {
    if (++this.lookupsSinceRank >= RANK_EVERY) this.rank();
    const subtables = this.subtables;
    for (let s = 0; s < subtables.length; s++) {
      const st = subtables[s]!;
      const words = st.words;
      const mw = st.maskWords;
      let f = st.buckets.get(hashMasked(key, words, mw)) ?? null;
      while (f !== null) {
        const fk = f.key;
        let i = 0;
        for (; i < words.length; i++) {
          const w = words[i]!;
          if (((key[w]! & mw[i]!) >>> 0) !== fk[w]) break;
        }
        if (i === words.length) {
          st.hits++;
          this.lastSubtables = s + 1;
          return f as F;
        }
        f = f.chain;
      }
    }
    return null;
  }

  /** The flow with exactly this masked key and mask, if any. */
  find(key: Uint32Array, mask: Uint32Array): F | null {
    const st = this.subtables.find((t) => sameMask(t.mask, mask));
    if (!st) return null;
    let f = st.buckets.get(hashMasked(key, st.words, st.maskWords)) ?? null;
    while (f !== null) {
      let same = true;
      for (let i = 0; i < st.words.length; i++) {
        const w = st.words[i]!;
        if (((key[w]! & mask[w]!) >>> 0) !== f.key[w]) { same = false; break; }
      }
      if (same) return f as F;
      f = f.chain;
    }
    return null;
  }

  /** Adds a flow (its key already masked by its mask). */
  insert(flow: F): void {
    let st = this.subtables.find((t) => sameMask(t.mask, flow.mask));
    if (!st) {
      const words: number[] = [];
      for (let i = 0; i < flow.mask.length; i++) if (flow.mask[i]) words.push(i);
      st = {
        mask: flow.mask, words: Uint16Array.from(words), maskWords: Uint32Array.from(words.map((w) => flow.mask[w]!)),
        buckets: new Map(), count: 0, hits: 0,
      };
      this.subtables.push(st);
    }
    flow.hash = hashMasked(flow.key, st.words, st.maskWords);
    flow.chain = st.buckets.get(flow.hash) ?? null;
    flow.subtable = st;
    flow.dead = false;
    st.buckets.set(flow.hash, flow);
    st.count++;
    this.count++;
  }

  remove(flow: F): void {
    const st = flow.subtable;
    if (!st || flow.dead) return;
    let f = st.buckets.get(flow.hash) ?? null;
    let prev: ClassifiedFlow | null = null;
    while (f !== null && f !== flow) { prev = f; f = f.chain; }
    if (f === null) return;
    if (prev) prev.chain = flow.chain;
    else if (flow.chain) st.buckets.set(flow.hash, flow.chain);
    else st.buckets.delete(flow.hash);
    flow.chain = null;
    flow.dead = true;
    flow.subtable = null;
    st.count--;
    this.count--;
    if (st.count === 0) this.subtables = this.subtables.filter((t) => t !== st);
  }

  /** Masks in use. */
  get masks(): number {
    return this.subtables.length;
  }

  *flows(): Iterable<F> {
    for (const st of this.subtables) {
      for (const head of st.buckets.values()) {
        for (let f: ClassifiedFlow | null = head; f !== null; f = f.chain) yield f as F;
      }
    }
  }

  /** Busiest subtables first, as dpcls re-sorts them; hits decay so the order follows the traffic. */
  rank(): void {
    this.lookupsSinceRank = 0;
    this.subtables.sort((a, b) => b.hits - a.hits);
    for (const st of this.subtables) st.hits >>>= 1;
  }
}

// ------------------------------------------------------------------ EMC

/** OVS's EM_FLOW_HASH_ENTRIES. */
export const EMC_ENTRIES = 8192;
const EMC_MASK = EMC_ENTRIES - 1;

/** Words hashed for the EMC index (addresses, ethertype, VLAN, protocol, ports); the full key is compared on a hit. */
const EMC_HASH_WORDS = Uint16Array.from([
  K.inPort, K.ethDst, K.ethDst + 1, K.ethSrc, K.ethSrc + 1, K.ethType, K.vlanTci, K.nwProto, K.ipSrc, K.ipDst,
  K.tcpSrc, K.tcpDst, K.udpSrc, K.udpDst, K.ipv6Src + 3, K.ipv6Dst + 3,
]);

export function emcHash(key: Uint32Array): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < EMC_HASH_WORDS.length; i++) {
    h = Math.imul(h ^ key[EMC_HASH_WORDS[i]!]!, 0x85ebca6b);
    h ^= h >>> 13;
  }
  return (h ^ (h >>> 16)) >>> 0;
}

/** Words an IPv4 packet's key can have set, up to and including the ICMP code (the ethertype among them). */
const IP4_WORDS = Math.max(K.icmpCode, K.sctpDst, K.udpDst, K.ethType, K.vlanTci, K.inPort, K.ipTos) + 1;

/** Direct-mapped cache of full keys (DP_KEY_WORDS each) to the megaflow they hit. */
export class ExactMatchCache<F extends ClassifiedFlow> {
  private readonly keys = new Uint32Array(EMC_ENTRIES * DP_KEY_WORDS);
  private readonly flows: (F | null)[] = new Array<F | null>(EMC_ENTRIES).fill(null);
  private readonly hashes = new Uint32Array(EMC_ENTRIES);
  /** Inserts since the last flush: a flush of an empty cache (every flow_mod asks for one) costs nothing. */
  private inserted = 0;

  lookup(key: Uint32Array, hash: number): F | null {
    const slot = hash & EMC_MASK;
    const f = this.flows[slot]!;
    if (f === null || f.dead || this.hashes[slot] !== hash) return null;
    const base = slot * DP_KEY_WORDS;
    const keys = this.keys;
    // IPv4 extraction never sets the words past the L4 ports but the TCP flags and the tunnel metadata: equal ethertypes make the rest equal (zero).
    const lim = key[K.ethType] === 0x0800 ? IP4_WORDS : DP_KEY_WORDS;
    for (let i = 0; i < lim; i++) if (keys[base + i] !== key[i]) return null;
    if (keys[base + K.tcpFlags] !== key[K.tcpFlags]) return null;
    if (lim !== DP_KEY_WORDS && (keys[base + K.tunId] !== key[K.tunId] || keys[base + K.tunId + 1] !== key[K.tunId + 1]
      || keys[base + K.tunSrc] !== key[K.tunSrc] || keys[base + K.tunDst] !== key[K.tunDst])) return null;
    return f;
  }

  insert(key: Uint32Array, hash: number, flow: F): void {
    const slot = hash & EMC_MASK;
    this.hashes[slot] = hash;
    this.flows[slot] = flow;
    this.inserted++;
    this.keys.set(key.subarray(0, DP_KEY_WORDS), slot * DP_KEY_WORDS);
  }

  /** Forgets everything (the OpenFlow tables changed). */
  flush(): void {
    if (this.inserted === 0) return;
    this.flows.fill(null);
    this.inserted = 0;
  }

  /** Live entries (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const f of this.flows) if (f && !f.dead) n++;
    return n;
  }
}

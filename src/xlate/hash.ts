// Flow hashes for select groups, multipath and bundle: the fields each hash
// reads (which the megaflow must then match exactly) and the member
// selection algorithms OVS names (modulo_n, hash_threshold, hrw, iter_hash,
// active_backup).

/** A 32-bit mix in the style of murmur3's finalizer, seeded. */
export function mix32(h: number, data: number): number {
  let k = Math.imul(data >>> 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h = (h ^ k) >>> 0;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

export function finish32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a list of bigints (each folded into 32-bit words). */
export function hashValues(values: readonly bigint[], basis: number): number {
  let h = basis >>> 0;
  for (let v of values) {
    do {
      h = mix32(h, Number(v & 0xffffffffn));
      v >>= 32n;
    } while (v > 0n);
  }
  return finish32(h);
}

/** hash of (x, basis), used to score members in highest-random-weight. */
export function hashInt(x: number, basis: number): number {
  return finish32(mix32(mix32(basis >>> 0, x >>> 0), 0x9e3779b9));
}

export type MultipathAlgorithm = 'modulo_n' | 'hash_threshold' | 'hrw' | 'iter_hash';

/** Link index in [0, nLinks) for a flow hash (OVS's multipath_algorithm semantics). */
export function multipathLink(alg: MultipathAlgorithm, hash: number, nLinks: number, arg: number): number {
  if (nLinks <= 1) return 0;
  switch (alg) {
    case 'modulo_n': return hash % nLinks;
    case 'hash_threshold': return Math.min(nLinks - 1, Math.floor(hash / (0x100000000 / nLinks)));
    case 'hrw': {
      let best = 0;
      let bestScore = -1;
      for (let i = 0; i < nLinks; i++) {
        const s = hashInt(i, hash);
        if (s > bestScore) {
          best = i;
          bestScore = s;
        }
      }
      return best;
    }
    case 'iter_hash': {
      // Next power of two above nLinks, rehashing until the value falls in range (bounded by arg).
      let m = 1;
      while (m < nLinks) m <<= 1;
      let h = hash;
      for (let i = 0; i < Math.max(1, arg || 32); i++) {
        const v = h & (m - 1);
        if (v < nLinks) return v;
        h = hashInt(h, i + 1);
      }
      return h % nLinks;
    }
  }
}

/** The hash fields multipath and bundle accept. */
export const HASH_FIELD_SETS = ['eth_src', 'symmetric_l4', 'symmetric_l3l4', 'symmetric_l3l4+udp', 'nw_src', 'nw_dst', 'symmetric_l3'] as const;
export type HashFields = typeof HASH_FIELD_SETS[number];

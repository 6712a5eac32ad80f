// The classifier against a linear scan of the same rules: random rules over a
// few masks (rules keep only their mask's words), random keys, and the loose,
// strict and overlap queries flow_mods make.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Classifier, compactWords, expandWords, type ClsRule } from '../../src/ofproto/classifier.js';
import type { TextAction } from '../../src/openflow/index.js';
import { keyMaskToMatch, matchOfWords, matchToKeyMask } from '../../src/flow/index.js';

const WORDS = 12;

interface R extends ClsRule { readonly id: number; readonly value: Uint32Array }

/** A small deterministic generator (xorshift32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function setup(seed: number): { rules: R[]; keys: Uint32Array[]; masks: Uint32Array[]; next: () => number } {
  const next = rng(seed);
  // Masks over a few words each, some partial (prefixes), as L2/L3/L4 matches make them.
  const masks = Array.from({ length: 6 }, () => {
    const m = new Uint32Array(WORDS);
    for (let k = 0; k < 1 + (next() % 3); k++) m[next() % WORDS] = next() % 2 ? 0xffffffff : (0xffffffff << (next() % 24)) >>> 0;
    return m;
  });
  const rules: R[] = [];
  for (let id = 0; id < 400; id++) {
    const mask = masks[next() % masks.length]!;
    // Few distinct values per word, so keys hit rules and rules collide.
    const value = mask.map((m) => (next() % 4) & m);
    rules.push({ id, priority: next() % 5, mask, value, words: compactWords(value, mask) });
  }
  const keys = Array.from({ length: 500 }, () => Uint32Array.from({ length: WORDS }, () => next() % 4));
  return { rules, keys, masks, next };
}

const matches = (r: R, key: Uint32Array): boolean => r.mask.every((m, i) => ((key[i]! & m) >>> 0) === r.value[i]);

test('a rule keeps only its mask\'s words, and expands back to its whole value', () => {
  const mask = Uint32Array.from([0, 0xffff0000, 0, 0xffffffff]);
  const words = compactWords(Uint32Array.from([7, 0x12345678, 9, 0xdeadbeef]), mask);
  assert.deepEqual(words, [0x12340000, 0xdeadbeef]);
  assert.deepEqual([...expandWords({ priority: 0, mask, words })], [0, 0x12340000, 0, 0xdeadbeef]);
});

/** Words 0-2 metadata, 3-5 L2, 6-8 L3, 9-11 L4. */
const STAGES = Uint8Array.from({ length: WORDS }, (_, w) => Math.floor(w / 3));

test('lookups find the highest-priority matching rule a linear scan finds, and the wildcards cover every rule that could differ', () => {
  for (const [seed, stages] of [[1, undefined], [2, undefined], [3, STAGES], [4, STAGES], [5, STAGES]] as const) {
    const { rules, keys } = setup(seed);
    const cls = new Classifier<R>(WORDS, stages);
    const kept = new Map<string, R>();
    for (const r of rules) {
      const same = kept.get(`${r.priority}/${[...r.mask]}/${[...r.value]}`);
      assert.equal(cls.insert(r), same ?? null, 'an identical rule is replaced and returned');
      kept.set(`${r.priority}/${[...r.mask]}/${[...r.value]}`, r);
    }
    assert.equal(cls.size, kept.size);
    const live = [...kept.values()];
    for (const key of keys) {
      const wc = new Uint32Array(WORDS);
      const got = cls.lookup(key, wc);
      const best = live.filter((r) => matches(r, key)).reduce((a, r) => Math.max(a, r.priority), -1);
      assert.equal(got?.priority ?? -1, best, `seed ${seed}: priority found`);
      if (got) assert.ok(matches(got, key));
      // Any key equal to this one on the wildcard bits gets the same answer.
      const other = key.map((w, i) => (w & wc[i]!) | (~wc[i]! & 0x3));
      assert.equal(cls.lookup(other)?.priority ?? -1, best, `seed ${seed}: the wildcard mask is too wide`);
    }
  }
});

test('loose, strict and overlap queries agree with a scan, before and after removals', () => {
  const { rules, masks, next } = setup(7);
  const cls = new Classifier<R>(WORDS);
  const live = new Set<R>();
  for (const r of rules) {
    const old = cls.insert(r);
    if (old) live.delete(old);
    live.add(r);
  }
  for (const r of [...live]) if (next() % 3 === 0) { assert.ok(cls.remove(r)); live.delete(r); }
  assert.equal(cls.size, live.size);
  for (let q = 0; q < 200; q++) {
    const mask = masks[next() % masks.length]!.map((m) => (next() % 3 ? m : 0));
    const value = mask.map((m) => (next() % 4) & m);
    const priority = next() % 5;
    const loose = [...cls.iterLoose(value, mask)].map((r) => r.id).sort((a, b) => a - b);
    const looseScan = [...live].filter((r) => Classifier.covers(r, value, mask)).map((r) => r.id).sort((a, b) => a - b);
    const looseBrute = [...live].filter((r) => r.mask.every((m, i) => ((mask[i]! & m) >>> 0) === mask[i] && ((r.value[i]! & mask[i]!) >>> 0) === value[i]))
      .map((r) => r.id).sort((a, b) => a - b);
    assert.deepEqual(loose, looseBrute, 'iterLoose');
    assert.deepEqual(looseScan, looseBrute, 'Classifier.covers');
    const over = [...cls.overlapping(value, mask, priority)].map((r) => r.id).sort((a, b) => a - b);
    const overBrute = [...live].filter((r) => r.priority === priority && r.mask.every((m, i) => (((r.value[i]! ^ value[i]!) & m & mask[i]!) >>> 0) === 0))
      .map((r) => r.id).sort((a, b) => a - b);
    assert.deepEqual(over, overBrute, 'overlapping');
    const exact = cls.findExact(value, mask, priority);
    const exactBrute = [...live].find((r) => r.priority === priority && r.mask.every((m, i) => m === mask[i] && r.value[i] === value[i]));
    assert.equal(exact?.id, exactBrute?.id, 'findExact');
  }
  for (const r of [...live]) assert.ok(cls.remove(r));
  assert.equal(cls.size, 0);
  assert.equal(cls.subtableCount(), 0);
});

test('rules with the same actions share one list and its wire form; different actions never do', async () => {
  const { shareActions } = await import('../../src/ofproto/action-set.js');
  const out = (port: number): TextAction[] => [{ type: 'output', port, max_len: 0 } as TextAction];
  const setField = (v: bigint): TextAction[] => [{ type: 'set_field', field: 'metadata', value: v } as unknown as TextAction];
  const a = shareActions(out(2));
  assert.equal(shareActions(out(2)), a, 'equal lists are one set');
  assert.notEqual(shareActions(out(3)), a);
  assert.equal(shareActions(setField(1n)), shareActions(setField(1n)));
  assert.notEqual(shareActions(setField(1n)), shareActions(setField(2n)), 'bigints are compared by value');
  assert.notEqual(shareActions(setField(1n)), shareActions([{ type: 'set_field', field: 'metadata', value: '1n' } as unknown as TextAction]));
  const w = a.wireFor('OpenFlow13', (l) => l);
  assert.equal(shareActions(out(2)).wireFor('OpenFlow13', (l) => l), w, 'the wire form is made once');
});

test('a rule\'s match made again from its mask and kept words is the canonical match of its whole key', () => {
  const matches: Record<string, { value: bigint; mask?: bigint }>[] = [
    { in_port: { value: 1n }, eth_src: { value: 0x020000010203n } },
    { eth_type: { value: 0x800n }, nw_proto: { value: 17n }, ip_src: { value: 0xac100101n }, ip_dst: { value: 0xc0a80100n, mask: 0xffffff00n }, udp_src: { value: 9n } },
    { eth_type: { value: 0x86ddn }, ipv6_src: { value: 0x20010db8000000000000000000000001n, mask: 0xffffffffffffffff0000000000000000n } },
    { vlan_vid: { value: 0x1064n } },
    { vlan_pcp: { value: 5n }, eth_type: { value: 0x800n }, ip_dscp: { value: 46n } },
    { eth_type: { value: 0x800n }, nw_ecn: { value: 1n } },
    { metadata: { value: 0x1234n, mask: 0xff00ffn }, reg3: { value: 7n }, xreg1: { value: 0x1_0000_0002n } },
    { tun_id: { value: 0x10n }, tun_src: { value: 0x0a000001n }, pkt_mark: { value: 0x80000000n, mask: 0x80000000n } },
    {},
  ];
  for (const m of matches) {
    const { value, mask } = matchToKeyMask(m);
    assert.deepEqual(matchOfWords(mask, compactWords(value, mask)), keyMaskToMatch(value, mask), JSON.stringify(Object.keys(m)));
  }
});

test('a staged lookup leaves the later stages wildcarded when no rule agrees with an earlier one', () => {
  const mask = new Uint32Array(WORDS);
  mask[4] = 0xffffffff;   // L2
  mask[10] = 0xffff;      // L4
  const value = new Uint32Array(WORDS);
  value[4] = 7;
  value[10] = 80;
  const rule: R = { id: 1, priority: 5, mask, value, words: compactWords(value, mask) };
  for (const [stages, l4Marked] of [[STAGES, 0], [undefined, 0xffff]] as const) {
    const cls = new Classifier<R>(WORDS, stages);
    cls.insert(rule);
    const key = new Uint32Array(WORDS);
    key[4] = 8;   // another L2 value: no rule can match, whatever the L4 port
    key[10] = 80;
    const wc = new Uint32Array(WORDS);
    assert.equal(cls.lookup(key, wc), null);
    assert.equal(wc[4], 0xffffffff);
    assert.equal(wc[10], l4Marked, stages ? 'staged: the port stays wildcarded' : 'unstaged: the port is examined');
    key[4] = 7;
    wc.fill(0);
    assert.equal(cls.lookup(key, wc)?.id, 1);
    assert.equal(wc[10], 0xffff);
  }
});

test('a subtable with many rules keeps its stage hashes through growth and removals (staged lookups stay right)', () => {
  const cls = new Classifier<R>(WORDS, STAGES);
  const mask = new Uint32Array(WORDS);
  mask[4] = 0xffffffff;
  mask[10] = 0xffff;
  const rules: R[] = [];
  for (let i = 0; i < 3000; i++) {
    const value = new Uint32Array(WORDS);
    value[4] = i % 700;   // several rules share an L2 value
    value[10] = i;
    const r: R = { id: i, priority: 1, mask, value, words: compactWords(value, mask) };
    rules.push(r);
    cls.insert(r);
  }
  const probe = (l2: number, port: number): number | undefined => {
    const key = new Uint32Array(WORDS);
    key[4] = l2;
    key[10] = port;
    return cls.lookup(key)?.id;
  };
  assert.equal(probe(5, 705), 705);
  assert.equal(probe(699, 699), 699);
  assert.equal(probe(700, 700), undefined);
  for (const r of rules) if (r.id % 700 !== 5) cls.remove(r);
  assert.equal(cls.size, rules.filter((r) => r.id % 700 === 5).length);
  assert.equal(probe(5, 2105), 2105);
  assert.equal(probe(6, 6), undefined, 'a removed L2 value is gone from the stage hashes');
  for (const r of rules) if (r.id % 700 !== 5) cls.insert(r);
  assert.equal(probe(6, 1406), 1406, 'and comes back when its rules do');
});

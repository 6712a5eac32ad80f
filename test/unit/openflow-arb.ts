// fast-check arbitraries derived from the codecs' own shapes (src/openflow
// describes every wire struct once; the generator walks that description),
// plus hand-made ones for the leaves with constraints a shape cannot say.

import fc from 'fast-check';
import { actionList, messageRows, type Shape, type Match, type OfMessage, type MessageRow } from '../../src/openflow/index.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const macA = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));

export const match10A = fc.constantFrom<Match>(
  {},
  { in_port: { value: 3n }, eth_type: { value: 0x0800n }, nw_proto: { value: 6n }, ip_src: { value: 0x0a000000n, mask: 0xff000000n }, tcp_dst: { value: 80n } },
  { vlan_tci: { value: 0x1064n, mask: 0x1fffn }, eth_type: { value: 0x0806n }, arp_op: { value: 1n } },
);
/** Matches every wire form (OXM of any version and NXM) can carry. */
export const match13A = fc.constantFrom<Match>(
  {},
  { in_port: { value: 3n }, eth_type: { value: 0x86ddn }, ipv6_src: { value: 1n << 120n, mask: 0xffn << 120n }, reg3: { value: 5n } },
  { tun_id: { value: 7n }, eth_type: { value: 0x0800n }, nw_proto: { value: 6n }, tcp_flags: { value: 2n, mask: 0x12n } },
);
export const setFieldA = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xfffn }).map((v) => ({ field: 'vlan_vid', value: v | 0x1000n })),
  fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }).map((v) => ({ field: 'eth_dst', value: v })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v) => ({ field: 'ip_dst', value: v })),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v) => ({ field: 'reg5', value: v })),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => ({ field: 'tun_id', value: v })),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => ({ field: 'ct_label', value: v })),
);

const subfieldA = fc.record({ field: u32, ofs: u16 });
const learnSpecA = fc.integer({ min: 1, max: 64 }).chain((n_bits) => fc.oneof(
  fc.record({ n_bits: fc.constant(n_bits), dst_type: fc.constantFrom(0 as const, 1 as const), src: subfieldA, dst: subfieldA }),
  fc.record({
    n_bits: fc.constant(n_bits), dst_type: fc.constantFrom(0 as const, 1 as const),
    src: fc.record({ imm: fc.uint8Array({ minLength: 2 * Math.ceil(n_bits / 16), maxLength: 2 * Math.ceil(n_bits / 16) }) }), dst: subfieldA,
  }),
  fc.record({ n_bits: fc.constant(n_bits), dst_type: fc.constant(2 as const), src: subfieldA }),
));
const ipv4A = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const natRangeA = fc.record({
  ipv4_min: ipv4A, ipv4_max: ipv4A, ipv6_min: fc.uint8Array({ minLength: 16, maxLength: 16 }), ipv6_max: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  proto_min: u16, proto_max: u16,
}, { requiredKeys: [] });
const oxsA = fc.record({
  duration: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), idle_time: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  flow_count: fc.bigInt({ min: 0n, max: 0xffffffffn }), packet_count: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  byte_count: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
}, { requiredKeys: [] });
const helloA = fc.record({
  elements: fc.array(fc.oneof(
    fc.record({ type: fc.constant(1 as const), bitmaps: fc.array(u32, { maxLength: 3 }) }),
    fc.record({ type: fc.integer({ min: 2, max: 0xffff }), data: fc.uint8Array({ maxLength: 16 }), raw: fc.constant(true as const) }),
  ), { maxLength: 3 }),
});
const error12A = fc.oneof(
  fc.record({ type: fc.integer({ min: 0, max: 0xfffe }), code: u16, data: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ type: fc.constant(0xffff), exp_code: u16, experimenter: u32, data: fc.uint8Array({ maxLength: 32 }) }),
);

interface Ctx {
  /** Nesting depth of action lists (ct and clone hold actions). */
  readonly depth: number;
}

function named(name: string, version: number | undefined, ctx: Ctx): fc.Arbitrary<unknown> {
  const v = version ?? 4;
  switch (name) {
    case 'of10Match': return match10A;
    case 'oxmMatch': case 'tlvMatch': return match13A;
    case 'oxmEntry': return setFieldA;
    case 'learnSpecs': return fc.array(learnSpecA, { maxLength: 3 });
    case 'natRange': return natRangeA;
    case 'oxsStats': return oxsA;
    case 'hello': return helloA;
    case 'error12': return error12A;
    case 'actions': return ctx.depth >= 1 ? fc.constant([]) : arbOf(actionList(v).shape as Shape, { depth: ctx.depth + 1 });
    case 'message': return fc.record({ version: fc.constant(v), xid: u32, kind: fc.constant('BARRIER_REQUEST'), body: fc.constant({}) });
    default: throw new Error(`no arbitrary for named shape ${name}`);
  }
}

const cache = new WeakMap<Shape, fc.Arbitrary<unknown>>();

/** An arbitrary for values of a codec's shape. */
export function arbOf(shape: Shape, ctx: Ctx = { depth: 0 }): fc.Arbitrary<unknown> {
  if (ctx.depth === 0) {
    const hit = cache.get(shape);
    if (hit) return hit;
  }
  const a = build(shape, ctx);
  if (ctx.depth === 0) cache.set(shape, a);
  return a;
}

function build(shape: Shape, ctx: Ctx): fc.Arbitrary<unknown> {
  switch (shape.t) {
    case 'uint': return fc.integer({ min: 0, max: shape.max ?? 2 ** shape.bits - 1 });
    case 'u64': return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 'mac': return macA;
    case 'ipv4': return ipv4A;
    case 'bytes': return fc.uint8Array({ minLength: shape.len, maxLength: shape.len });
    case 'rest': {
      if (!shape.mod) return fc.uint8Array({ maxLength: 24 });
      const { mod, rem = 0 } = shape;
      return fc.integer({ min: 0, max: 3 }).chain((n) => fc.uint8Array({ minLength: n * mod + rem, maxLength: n * mod + rem }));
    }
    case 'str': return fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: Math.min(shape.len, 16) }).map((cs) => String.fromCharCode(...cs));
    case 'struct': {
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of shape.fields) rec[k] = arbOf(s, ctx);
      return fc.record(rec);
    }
    case 'list': {
      const item = arbOf(shape.item, ctx);
      const max = ctx.depth > 0 ? 2 : 3;
      if (shape.unique) {
        const key = shape.unique;
        return fc.uniqueArray(item, { maxLength: max, selector: (x) => (x as Record<string, unknown>)[key] });
      }
      return fc.array(item, { maxLength: max });
    }
    case 'tlvs': {
      const knownTypes = new Set(shape.known.map(([t]) => t));
      const raw = fc.record({
        type: u16.filter((t) => !knownTypes.has(t)), data: fc.uint8Array({ maxLength: 16 }), raw: fc.constant(true as const),
      });
      const known = shape.known.map(([t, s]) => arbOf(s, ctx).map((v) => ({ ...(v as object), type: t })));
      return fc.array(fc.oneof(raw, ...known), { maxLength: ctx.depth > 0 ? 2 : 3 });
    }
    case 'union':
      return fc.oneof(...shape.options.map((o) => arbOf(o.shape, ctx).map((v) => ({ ...o.tag, ...(v as object) }))));
    case 'named':
      return named(shape.name, shape.version, ctx);
  }
}

/** Every (row, version) of the message table as an arbitrary message. */
export function messageArb(filter: (row: MessageRow, version: number) => boolean = () => true): fc.Arbitrary<OfMessage> {
  const arbs: fc.Arbitrary<OfMessage>[] = [];
  for (const row of messageRows()) {
    for (const version of row.versions) {
      if (![1, 4, 5, 6].includes(version) || !filter(row, version)) continue;
      const body = row.body.shape ? arbOf(row.body.shape) : fc.constant({});
      arbs.push(fc.record({ version: fc.constant(version), xid: u32, kind: fc.constant(row.kind), body }) as fc.Arbitrary<OfMessage>);
    }
  }
  // fast-check builds records without a prototype; the decoder builds plain objects.
  return fc.oneof(...arbs).map((m) => structuredClone(m));
}

// Standard actions (OF1.0 and OF1.1+ numbering), the Nicira actions, and
// OF1.1+ instructions, each kind one table row: wire type code (and Nicira
// subtype) and body field table. Both are TLV lists whose length includes the
// padding to 8 bytes. Nicira actions are OFPAT_VENDOR (0xffff) with vendor
// 0x00002320 and a u16 subtype; other experimenter actions stay opaque.

import { NX_VENDOR_ID, OfError, type OfErrorName } from './errors.js';
import { oxmEntry } from './match.js';
import {
  Reader, bytes, constant, ipv4, lengthOf, list, mac, pad, padTo, propList, readIntoOf, rest, restMod, struct, u16, u32, u64, u8,
  type Codec, type Prop, type RawProp, type Shape, type StructValue, type ValueOf, type Writer,
} from './wire.js';

interface TlvKind<C extends Codec<unknown> = Codec<unknown>> {
  readonly code: number;
  /** Nicira subtype, for code 0xffff with vendor NX_VENDOR_ID. */
  readonly nx?: number;
  readonly body: C;
  /** Variable-size bodies (set_field, experimenter) are followed by up to 7 bytes of padding. */
  readonly variable?: boolean;
}

function kind<F extends Record<string, Codec<unknown>>>(code: number, fields: F, variable = false): TlvKind<Codec<StructValue<F>>> {
  return { code, body: struct(fields), variable };
}

/** A Nicira action: vendor id and subtype, then its own fields. */
function nxKind<F extends Record<string, Codec<unknown>>>(subtype: number, fields: F, variable = false): TlvKind<Codec<StructValue<F>>> {
  const body = struct({ _nx_vendor: constant(4, NX_VENDOR_ID), _nx_subtype: constant(2, subtype), ...fields }) as unknown as Codec<StructValue<F>>;
  return { code: 0xffff, nx: subtype, body, variable };
}

const EXPERIMENTER_DATA = restMod(8);

type KindValue<T extends Record<string, TlvKind>> = {
  [K in keyof T & string]: { type: K } & ValueOf<T[K]['body']>;
}[keyof T & string];

interface ListErrors {
  readonly len: OfErrorName;
  readonly type: OfErrorName;
  readonly vendorType?: OfErrorName;
  readonly what: string;
  /** No two elements of the same type (instructions). */
  readonly unique?: boolean;
}

/** A list of 8-byte-aligned TLVs (u16 type, u16 length including padding) described by a kind table. */
function kindList<V extends { type: string }>(kinds: Record<string, TlvKind>, errs: ListErrors): Codec<V[]> {
  // name, kind, and the body's readInto (struct bodies read straight into an object that starts with `type`).
  type Hit = readonly [string, TlvKind, ReturnType<typeof readIntoOf>];
  const byCode = new Map<number, Hit>();
  const byNx = new Map<number, Hit>();
  for (const [name, k] of Object.entries(kinds)) {
    if (k.nx !== undefined) byNx.set(k.nx, [name, k, readIntoOf(k.body)]);
    else byCode.set(k.code, [name, k, readIntoOf(k.body)]);
  }
  const shape: Shape = {
    t: 'list',
    unique: errs.unique ? 'type' : undefined,
    item: { t: 'union', options: Object.entries(kinds).map(([name, k]) => ({ tag: { type: name }, shape: k.body.shape as Shape })) },
  };
  const kindOf = (v: V): TlvKind => {
    const k = kinds[v.type];
    if (!k) throw new RangeError(`${errs.what}: ${v.type} does not exist in this version`);
    return k;
  };
  const sizeOf = (v: V) => padTo(4 + kindOf(v).body.size(v), 8);
  return {
    shape,
    size: (vs) => vs.reduce((n, v) => n + sizeOf(v), 0),
    write: (w: Writer, vs) => {
      for (const v of vs) {
        const k = kindOf(v);
        // The length is patched in after the body: sizing nested lists again at every level showed in profiles.
        const start = w.pos;
        w.u16(k.code);
        w.zeros(2);
        k.body.write(w, v);
        const n = w.pos - start;
        const len = padTo(n, 8);
        w.buf[start + 2] = len >>> 8;
        w.buf[start + 3] = len;
        w.zeros(len - n);
      }
    },
    read: (r: Reader) => {
      const out: V[] = [];
      while (r.remaining > 0) {
        const h = r.sub(4, errs.len, `${errs.what} header`);
        const code = h.u16();
        const len = h.u16();
        if (len < 8 || len % 8 !== 0 || len - 4 > r.remaining) {
          throw new OfError(errs.len, `${errs.what} type ${code}: length ${len}`);
        }
        let hit = byCode.get(code);
        if (code === 0xffff && len >= 16 && byNx.size && r.dv.getUint32(r.pos) === NX_VENDOR_ID) {
          const sub = r.dv.getUint16(r.pos + 4);
          hit = byNx.get(sub);
          if (!hit) throw new OfError(errs.vendorType ?? errs.type, `${errs.what}: Nicira subtype ${sub}`);
        }
        if (!hit) throw new OfError(errs.type, `${errs.what} type ${code}`);
        const [name, k, into] = hit;
        const body = r.sub(len - 4, errs.len, errs.what);
        const v = into ? into(body, { type: name }) : { type: name, ...(k.body.read(body) as Record<string, unknown>) };
        if (k.variable ? body.remaining >= 8 : body.remaining !== 0) {
          throw new OfError(errs.len, `${errs.what} ${name}: ${body.remaining} unexpected bytes`);
        }
        out.push(v as unknown as V);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- actions

function of10Actions() {
  return {
    output: kind(0, { port: u16, max_len: u16 }),
    set_vlan_vid: kind(1, { vlan_vid: u16, _pad: pad(2) }),
    set_vlan_pcp: kind(2, { vlan_pcp: u8, _pad: pad(3) }),
    strip_vlan: kind(3, { _pad: pad(4) }),
    set_dl_src: kind(4, { dl_addr: mac, _pad: pad(6) }),
    set_dl_dst: kind(5, { dl_addr: mac, _pad: pad(6) }),
    set_nw_src: kind(6, { nw_addr: u32 }),
    set_nw_dst: kind(7, { nw_addr: u32 }),
    set_nw_tos: kind(8, { nw_tos: u8, _pad: pad(3) }),
    set_tp_src: kind(9, { tp_port: u16, _pad: pad(2) }),
    set_tp_dst: kind(10, { tp_port: u16, _pad: pad(2) }),
    enqueue: kind(11, { port: u16, _pad: pad(6), queue_id: u32 }),
    experimenter: kind(0xffff, { experimenter: u32, data: EXPERIMENTER_DATA }, true),
    ...nxActions(1),
  };
}

// ---------------------------------------------------------------- Nicira actions

/** ct and clone carry an action list of their own version. */
export interface CtAction {
  readonly flags: number;
  readonly zone_src: number;
  readonly zone: number;
  readonly recirc_table: number;
  readonly alg: number;
  readonly actions: Action[];
}
export interface CloneAction {
  readonly actions: Action[];
}

/**
 * Nested action lists (ct, clone) refer back to the list codec of their
 * version, built lazily; typed loosely here so the action types are not
 * inferred from themselves (CtAction/CloneAction give them back).
 */
function nestedActions(version: number): Codec<unknown[]> {
  return {
    shape: { t: 'named', name: 'actions', version },
    size: (v) => actionList(version).size(v as Action[]),
    write: (w, v) => actionList(version).write(w, v as Action[]),
    read: (r) => actionList(version).read(r),
  };
}

export const NX_LEARN_SRC_IMMEDIATE = 1 << 13;
export const NX_LEARN_DST_MATCH = 0;
export const NX_LEARN_DST_LOAD = 1;
export const NX_LEARN_DST_OUTPUT = 2;

/** A subfield reference: an NXM/OXM header and a bit offset. */
export interface Subfield {
  readonly field: number;
  readonly ofs: number;
}

/** One flow_mod_spec of a learn action: where n_bits come from (a field or immediate bytes) and where they go. */
export interface LearnSpec {
  readonly n_bits: number;
  readonly dst_type: 0 | 1 | 2;
  readonly src: Subfield | { readonly imm: Uint8Array };
  /** For match and load destinations. */
  readonly dst?: Subfield;
}

const subfield = struct({ field: u32, ofs: u16 });

function specSize(s: LearnSpec): number {
  const src = 'imm' in s.src ? 2 * Math.ceil(s.n_bits / 16) : 6;
  return 2 + src + (s.dst_type === NX_LEARN_DST_OUTPUT ? 0 : 6);
}

/** The flow_mod_specs of NXAST_LEARN: bit-packed headers, ended by a zero header or the action's end. */
const learnSpecs: Codec<LearnSpec[]> = {
  shape: { t: 'named', name: 'learnSpecs' },
  size: (v) => v.reduce((n, s) => n + specSize(s), 0),
  write: (w, v) => {
    for (const s of v) {
      if (s.n_bits < 1 || s.n_bits > 0x7ff) throw new RangeError(`learn: n_bits ${s.n_bits}`);
      const imm = 'imm' in s.src;
      w.u16((imm ? NX_LEARN_SRC_IMMEDIATE : 0) | (s.dst_type << 11) | s.n_bits);
      if ('imm' in s.src) {
        const n = 2 * Math.ceil(s.n_bits / 16);
        if (s.src.imm.length !== n) throw new RangeError(`learn: immediate of ${s.n_bits} bits takes ${n} bytes`);
        w.bytes(s.src.imm);
      } else {
        subfield.write(w, s.src);
      }
      if (s.dst_type !== NX_LEARN_DST_OUTPUT) {
        if (!s.dst) throw new RangeError('learn: match and load specs need dst');
        subfield.write(w, s.dst);
      }
    }
  },
  read: (r) => {
    const out: LearnSpec[] = [];
    while (r.remaining >= 2) {
      const header = r.dv.getUint16(r.pos);
      if (header === 0) break;
      r.take(2);
      const n_bits = header & 0x7ff;
      const dstType = (header >> 11) & 3;
      const imm = (header & NX_LEARN_SRC_IMMEDIATE) !== 0;
      if (dstType === 3 || (dstType === NX_LEARN_DST_OUTPUT && imm) || header & 0xc000) {
        throw new OfError('OFPBAC_BAD_ARGUMENT', `learn: spec header 0x${header.toString(16)}`);
      }
      const src = imm ? { imm: r.bytes(2 * Math.ceil(n_bits / 16)) } : subfield.read(r);
      const dst_type = dstType as 0 | 1 | 2;
      out.push(dst_type === NX_LEARN_DST_OUTPUT ? { n_bits, dst_type, src } : { n_bits, dst_type, src, dst: subfield.read(r) });
    }
    // What is left is the zero terminator and padding; OVS requires it to be zero.
    while (r.remaining > 0) if (r.u8() !== 0) throw new OfError('OFPBAC_BAD_ARGUMENT', 'learn: nonzero bytes after the specs');
    return out;
  },
};

export const NX_NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;

/** The optional NAT range: each part present when given (range_present bits on the wire). */
export interface NatRange {
  readonly ipv4_min?: string;
  readonly ipv4_max?: string;
  readonly ipv6_min?: Uint8Array;
  readonly ipv6_max?: Uint8Array;
  readonly proto_min?: number;
  readonly proto_max?: number;
}

const NAT_PARTS: ReadonlyArray<readonly [keyof NatRange, number, Codec<unknown>]> = [
  ['ipv4_min', NX_NAT_RANGE.IPV4_MIN, ipv4],
  ['ipv4_max', NX_NAT_RANGE.IPV4_MAX, ipv4],
  ['ipv6_min', NX_NAT_RANGE.IPV6_MIN, bytes(16)],
  ['ipv6_max', NX_NAT_RANGE.IPV6_MAX, bytes(16)],
  ['proto_min', NX_NAT_RANGE.PROTO_MIN, u16],
  ['proto_max', NX_NAT_RANGE.PROTO_MAX, u16],
];

/** range_present (u16) followed by the parts it announces, in bit order. */
const natRange: Codec<NatRange> = {
  shape: { t: 'named', name: 'natRange' },
  size: (v) => 2 + NAT_PARTS.reduce((n, [k, , c]) => n + (v[k] === undefined ? 0 : c.size(v[k])), 0),
  write: (w, v) => {
    let present = 0;
    for (const [k, bit] of NAT_PARTS) if (v[k] !== undefined) present |= bit;
    w.u16(present);
    for (const [k, , c] of NAT_PARTS) if (v[k] !== undefined) c.write(w, v[k]);
  },
  read: (r) => {
    const present = r.u16();
    if (present & ~0x3f) throw new OfError('OFPBAC_BAD_ARGUMENT', `nat: range_present 0x${present.toString(16)}`);
    const out: Record<string, unknown> = {};
    for (const [k, bit, c] of NAT_PARTS) if (present & bit) out[k] = c.read(r);
    while (r.remaining > 0) if (r.u8() !== 0) throw new OfError('OFPBAC_BAD_ARGUMENT', 'nat: nonzero padding');
    return out as NatRange;
  },
};

/**
 * The Nicira actions ovs-ofctl uses, by OVS's names. `load`/`move` in OF1.3+
 * are reg_load/reg_move here; OVS sends full-width loads as set_field.
 */
function nxActions(version: number) {
  return {
    resubmit: nxKind(1, { in_port: u16, _pad: pad(4) }),
    resubmit_table: nxKind(14, { in_port: u16, table: u8, _pad: pad(3) }),
    resubmit_table_ct: nxKind(44, { in_port: u16, table: u8, _pad: pad(3) }),
    set_tunnel: nxKind(2, { _pad: pad(2), tun_id: u32 }),
    set_tunnel64: nxKind(9, { _pad: pad(6), tun_id: u64 }),
    nx_set_queue: nxKind(4, { _pad: pad(2), queue_id: u32 }),
    pop_queue: nxKind(5, { _pad: pad(6) }),
    reg_move: nxKind(6, { n_bits: u16, src_ofs: u16, dst_ofs: u16, src: u32, dst: u32 }),
    reg_load: nxKind(7, { ofs_nbits: u16, dst: u32, value: u64 }),
    // The OXM entry starts right after the subtype (OVS writes it over ext_action_header's pad), then zeros to 8 bytes.
    reg_load2: nxKind(33, { field: oxmEntry(version) }, true),
    // The note keeps OVS's zero padding as part of the note, as OVS does.
    note: nxKind(8, { note: restMod(8, 6) }),
    multipath: nxKind(10, {
      fields: u16, basis: u16, _pad: pad(2), algorithm: u16, max_link: u16, arg: u32, _pad2: pad(2), ofs_nbits: u16, dst: u32,
    }),
    bundle: nxKind(12, {
      algorithm: u16, fields: u16, basis: u16, member_type: u32, _n: lengthOf('members', 2, { count: true }),
      ofs_nbits: u16, dst: u32, _zero: pad(4), members: list(u16, 'bundle members'),
    }, true),
    bundle_load: nxKind(13, {
      algorithm: u16, fields: u16, basis: u16, member_type: u32, _n: lengthOf('members', 2, { count: true }),
      ofs_nbits: u16, dst: u32, _zero: pad(4), members: list(u16, 'bundle members'),
    }, true),
    output_reg: nxKind(15, { ofs_nbits: u16, src: u32, max_len: u16, _zero: pad(6) }),
    learn: nxKind(16, {
      idle_timeout: u16, hard_timeout: u16, priority: u16, cookie: u64, flags: u16, table_id: u8, _pad: pad(1),
      fin_idle_timeout: u16, fin_hard_timeout: u16, specs: learnSpecs,
    }, true),
    exit: nxKind(17, { _pad: pad(6) }),
    nx_dec_ttl: nxKind(18, { _pad: pad(6) }),
    fin_timeout: nxKind(19, { fin_idle_timeout: u16, fin_hard_timeout: u16, _pad: pad(2) }),
    controller: nxKind(20, { max_len: u16, controller_id: u16, reason: u8, _zero: pad(1) }),
    dec_ttl_cnt_ids: nxKind(21, { _n: lengthOf('cnt_ids', 2, { count: true }), _zeros: pad(4), cnt_ids: list(u16, 'controller ids') }, true),
    write_metadata_nx: nxKind(22, { _zeros: pad(6), metadata: u64, mask: u64 }),
    sample: nxKind(29, { probability: u16, collector_set_id: u32, obs_domain_id: u32, obs_point_id: u32 }),
    conjunction: nxKind(34, { clause: u8, n_clauses: u8, id: u32 }),
    ct: nxKind(35, {
      flags: u16, zone_src: u32, zone: u16, recirc_table: u8, _pad: pad(3), alg: u16, actions: nestedActions(version),
    }) as unknown as TlvKind<Codec<CtAction>>,
    nat: nxKind(36, { _pad: pad(2), flags: u16, range: natRange }, true),
    output_trunc: nxKind(39, { port: u16, max_len: u32 }),
    clone: nxKind(42, { _pad: pad(6), actions: nestedActions(version) }) as unknown as TlvKind<Codec<CloneAction>>,
    ct_clear: nxKind(43, { _pad: pad(6) }),
    // The MPLS and group actions as Nicira extensions (what OVS sends for them in OF1.0).
    nx_push_mpls: nxKind(23, { ethertype: u16, _pad: pad(4) }),
    nx_pop_mpls: nxKind(24, { ethertype: u16, _pad: pad(4) }),
    nx_set_mpls_ttl: nxKind(25, { ttl: u8, _pad: pad(5) }),
    nx_dec_mpls_ttl: nxKind(26, { _pad: pad(6) }),
    nx_set_mpls_label: nxKind(30, { _pad: pad(2), label: u32 }),
    nx_set_mpls_tc: nxKind(31, { tc: u8, _pad: pad(5) }),
    nx_group: nxKind(40, { _pad: pad(2), group_id: u32 }),
    sample2: nxKind(38, sample2Fields),
    sample3: nxKind(41, sample2Fields),
    // controller() with userdata, pause or a meter: OVS's property-based form.
    controller2: nxKind(37, { _pad: pad(6), properties: controller2Props }),
  };
}

const sample2Fields = {
  probability: u16, collector_set_id: u32, obs_domain_id: u32, obs_point_id: u32, sampling_port: u16, direction: u8, _zeros: pad(5),
};

export const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;
const c2U16 = { value: u16, _pad: pad(2) };
const c2U8 = { value: u8 };
const c2U32 = { value: u32 };
const c2Data = { data: rest };
const c2Flag = {};
export type Controller2Prop =
  | Prop<0 | 1, typeof c2U16> | Prop<2, typeof c2U8> | Prop<3, typeof c2Data> | Prop<4, typeof c2Flag> | Prop<5, typeof c2U32> | RawProp;
const controller2Props = propList<Controller2Prop>(
  [[0, c2U16], [1, c2U16], [2, c2U8], [3, c2Data], [4, c2Flag], [5, c2U32]],
  'controller2 property', 'OFPBAC_BAD_LEN',
);

function setField(version: number) {
  return kind(25, { field: oxmEntry(version) }, true);
}

function of13Actions(version: number) {
  return {
    output: kind(0, { port: u32, max_len: u16, _pad: pad(6) }),
    copy_ttl_out: kind(11, { _pad: pad(4) }),
    copy_ttl_in: kind(12, { _pad: pad(4) }),
    set_mpls_ttl: kind(15, { mpls_ttl: u8, _pad: pad(3) }),
    dec_mpls_ttl: kind(16, { _pad: pad(4) }),
    push_vlan: kind(17, { ethertype: u16, _pad: pad(2) }),
    pop_vlan: kind(18, { _pad: pad(4) }),
    push_mpls: kind(19, { ethertype: u16, _pad: pad(2) }),
    pop_mpls: kind(20, { ethertype: u16, _pad: pad(2) }),
    set_queue: kind(21, { queue_id: u32 }),
    group: kind(22, { group_id: u32 }),
    set_nw_ttl: kind(23, { nw_ttl: u8, _pad: pad(3) }),
    dec_nw_ttl: kind(24, { _pad: pad(4) }),
    set_field: setField(version),
    push_pbb: kind(26, { ethertype: u16, _pad: pad(2) }),
    pop_pbb: kind(27, { _pad: pad(4) }),
    experimenter: kind(0xffff, { experimenter: u32, data: EXPERIMENTER_DATA }, true),
    ...nxActions(version),
  };
}

function of15Actions() {
  return {
    ...of13Actions(6),
    // OF1.5 copy_field (ovs-ofctl's move): OXM headers of source and destination.
    copy_field: kind(28, { n_bits: u16, src_offset: u16, dst_offset: u16, _pad: pad(2), src: u32, dst: u32 }, true),
    meter: kind(29, { meter_id: u32 }),
  };
}

export type Action10 = KindValue<ReturnType<typeof of10Actions>>;
export type Action13 = KindValue<ReturnType<typeof of13Actions>>;
export type Action15 = KindValue<ReturnType<typeof of15Actions>>;
/** One action, as the version it is encoded in knows it (OF1.0 ports are 16-bit). */
export type Action = Action10 | Action13 | Action15;

const actionErrors: ListErrors = { len: 'OFPBAC_BAD_LEN', type: 'OFPBAC_BAD_TYPE', vendorType: 'OFPBAC_BAD_VENDOR_TYPE', what: 'action' };
const actionCache = new Map<number, Codec<Action[]>>();

/** The action-list codec of a version (set_field errors are reported as OFPBAC_BAD_SET_*). */
export function actionList(version: number): Codec<Action[]> {
  let c = actionCache.get(version);
  if (!c) {
    const kinds: Record<string, TlvKind> = version === 1 ? of10Actions() : version >= 6 ? of15Actions() : of13Actions(version);
    const inner = kindList<Action>(kinds, actionErrors);
    c = {
      shape: inner.shape,
      size: inner.size,
      write: inner.write,
      read: (r) => {
        try {
          return inner.read(r);
        } catch (e) {
          throw e instanceof OfError ? setFieldError(e) : e;
        }
      },
    };
    actionCache.set(version, c);
  }
  return c;
}

/** A malformed OXM inside set_field is an action error, as OVS reports it. */
function setFieldError(e: OfError): OfError {
  const map: Partial<Record<OfErrorName, OfErrorName>> = {
    OFPBMC_BAD_FIELD: 'OFPBAC_BAD_SET_TYPE',
    OFPBMC_BAD_LEN: 'OFPBAC_BAD_SET_LEN',
    OFPBMC_BAD_VALUE: 'OFPBAC_BAD_SET_ARGUMENT',
    OFPBMC_BAD_WILDCARDS: 'OFPBAC_BAD_SET_ARGUMENT',
    OFPBMC_BAD_MASK: 'OFPBAC_BAD_SET_MASK',
  };
  const to = map[e.error];
  return to ? new OfError(to, e.message) : e;
}

// ---------------------------------------------------------------- instructions

function instructionKinds(version: number) {
  const actions = actionList(version) as Codec<Action[]>;
  const common = {
    goto_table: kind(1, { table_id: u8, _pad: pad(3) }),
    write_metadata: kind(2, { _pad: pad(4), metadata: u64, metadata_mask: u64 }),
    write_actions: kind(3, { _pad: pad(4), actions }),
    apply_actions: kind(4, { _pad: pad(4), actions }),
    clear_actions: kind(5, { _pad: pad(4) }),
    experimenter: kind(0xffff, { experimenter: u32, data: EXPERIMENTER_DATA }, true),
  };
  // OF1.5 replaced the meter instruction with the meter action.
  return version >= 6 ? common : { ...common, meter: kind(6, { meter_id: u32 }) };
}

export type Instruction = KindValue<ReturnType<typeof instructionKinds>>;

const instructionErrors: ListErrors = { len: 'OFPBIC_BAD_LEN', type: 'OFPBIC_UNKNOWN_INST', what: 'instruction', unique: true };
const instructionCache = new Map<number, Codec<Instruction[]>>();

/** The instruction-list codec of an OF1.1+ version; a repeated instruction type is OFPBIC_DUP_INST. */
export function instructionList(version: number): Codec<Instruction[]> {
  let c = instructionCache.get(version);
  if (!c) {
    const inner = kindList<Instruction>(instructionKinds(version), instructionErrors);
    c = {
      shape: inner.shape,
      size: inner.size,
      write: inner.write,
      read: (r) => {
        const list = inner.read(r);
        const seen = new Set<string>();
        for (const i of list) {
          if (seen.has(i.type)) throw new OfError('OFPBIC_DUP_INST', i.type);
          seen.add(i.type);
        }
        return list;
      },
    };
    instructionCache.set(version, c);
  }
  return c;
}

// Standard actions (OF1.0 and OF1.1+ numbering) and OF1.1+ instructions, each
// kind one table row: wire type code and body field table. Both are TLV lists
// whose length includes the padding to 8 bytes.
// Nicira (experimenter) actions are carried as raw experimenter bodies for now.

import { OfError, type OfErrorName } from './errors.js';
import { oxmEntry } from './match.js';
import {
  Reader, mac, pad, padTo, rest, struct, u16, u32, u64, u8,
  type Codec, type StructValue, type ValueOf, type Writer,
} from './wire.js';

interface TlvKind<C extends Codec<unknown> = Codec<unknown>> {
  readonly code: number;
  readonly body: C;
  /** Variable-size bodies (set_field, experimenter) are followed by up to 7 bytes of padding. */
  readonly variable?: boolean;
}

function kind<F extends Record<string, Codec<unknown>>>(code: number, fields: F, variable = false): TlvKind<Codec<StructValue<F>>> {
  return { code, body: struct(fields), variable };
}

type KindValue<T extends Record<string, TlvKind>> = {
  [K in keyof T & string]: { type: K } & ValueOf<T[K]['body']>;
}[keyof T & string];

interface ListErrors {
  readonly len: OfErrorName;
  readonly type: OfErrorName;
  readonly what: string;
}

/** A list of 8-byte-aligned TLVs (u16 type, u16 length including padding) described by a kind table. */
function kindList<V extends { type: string }>(kinds: Record<string, TlvKind>, errs: ListErrors): Codec<V[]> {
  const byCode = new Map<number, [string, TlvKind]>(Object.entries(kinds).map(([name, k]) => [k.code, [name, k]]));
  const kindOf = (v: V): TlvKind => {
    const k = kinds[v.type];
    if (!k) throw new RangeError(`${errs.what}: ${v.type} does not exist in this version`);
    return k;
  };
  const sizeOf = (v: V) => padTo(4 + kindOf(v).body.size(v), 8);
  return {
    size: (vs) => vs.reduce((n, v) => n + sizeOf(v), 0),
    write: (w: Writer, vs) => {
      for (const v of vs) {
        const k = kindOf(v);
        const n = 4 + k.body.size(v);
        w.u16(k.code);
        w.u16(padTo(n, 8));
        k.body.write(w, v);
        w.zeros(padTo(n, 8) - n);
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
        const hit = byCode.get(code);
        if (!hit) throw new OfError(errs.type, `${errs.what} type ${code}`);
        const [name, k] = hit;
        const body = r.sub(len - 4, errs.len, errs.what);
        const v = k.body.read(body) as Record<string, unknown>;
        if (k.variable ? body.remaining >= 8 : body.remaining !== 0) {
          throw new OfError(errs.len, `${errs.what} ${name}: ${body.remaining} unexpected bytes`);
        }
        out.push({ type: name, ...v } as unknown as V);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------- actions

const OF10_ACTIONS = {
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
  experimenter: kind(0xffff, { experimenter: u32, data: rest }, true),
};

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
    experimenter: kind(0xffff, { experimenter: u32, data: rest }, true),
  };
}

function of15Actions() {
  return {
    ...of13Actions(6),
    meter: kind(29, { meter_id: u32 }),
  };
}

export type Action10 = KindValue<typeof OF10_ACTIONS>;
export type Action13 = KindValue<ReturnType<typeof of13Actions>>;
export type Action15 = KindValue<ReturnType<typeof of15Actions>>;
/** One action, as the version it is encoded in knows it (OF1.0 ports are 16-bit). */
export type Action = Action10 | Action13 | Action15;

const actionErrors: ListErrors = { len: 'OFPBAC_BAD_LEN', type: 'OFPBAC_BAD_TYPE', what: 'action' };
const actionCache = new Map<number, Codec<Action[]>>();

/** The action-list codec of a version (set_field errors are reported as OFPBAC_BAD_SET_*). */
export function actionList(version: number): Codec<Action[]> {
  let c = actionCache.get(version);
  if (!c) {
    const kinds: Record<string, TlvKind> = version === 1 ? OF10_ACTIONS : version >= 6 ? of15Actions() : of13Actions(version);
    const inner = kindList<Action>(kinds, actionErrors);
    c = {
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
    experimenter: kind(0xffff, { experimenter: u32, data: rest }, true),
  };
  // OF1.5 replaced the meter instruction with the meter action.
  return version >= 6 ? common : { ...common, meter: kind(6, { meter_id: u32 }) };
}

export type Instruction = KindValue<ReturnType<typeof instructionKinds>>;

const instructionErrors: ListErrors = { len: 'OFPBIC_BAD_LEN', type: 'OFPBIC_UNKNOWN_INST', what: 'instruction' };
const instructionCache = new Map<number, Codec<Instruction[]>>();

/** The instruction-list codec of an OF1.1+ version; a repeated instruction type is OFPBIC_DUP_INST. */
export function instructionList(version: number): Codec<Instruction[]> {
  let c = instructionCache.get(version);
  if (!c) {
    const inner = kindList<Instruction>(instructionKinds(version), instructionErrors);
    c = {
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

// One switch's Geneve TLV mapping table (OVS's tun_table together with the
// refcounts of its vl_mff_map): which (option class, type) each of
// tun_metadata0-63 stands for, how long its value is, and where in the
// 256-byte option space of a flow's tunnel metadata it lives. A bridge has one
// table, shared by all its OpenFlow connections; NXT_TLV_TABLE_MOD changes it
// all-or-nothing, NXT_TLV_TABLE_REQUEST reads it.

import {
  OfError, TLV_MAX_FIELDS, TLV_MAX_OPTION_SPACE, checkTlvTableMod, tunMetadataIndex, type Nx2Bodies, type SubfieldRef, type TextAction, type TlvMap,
} from '../openflow/index.js';
import { fitTunMetadata } from '../flow/index.js';

/** A piece of option space: `len` bytes at `offset`, both multiples of 4. */
export interface TlvSpan { readonly offset: number; readonly len: number }

/** One mapped option: tun_metadata<index> is option (optionClass, optionType), `len` bytes. */
export interface TlvOption {
  readonly index: number;
  readonly optionClass: number;
  readonly optionType: number;
  readonly len: number;
  /** Where its bytes live; more than one span when free space was fragmented (OVS's loc chain). */
  readonly spans: readonly TlvSpan[];
}

const UNITS = TLV_MAX_OPTION_SPACE / 4;

function optionKey(optionClass: number, optionType: number): number {
  return optionClass * 256 + optionType;
}

/** The mutable state, copied whole so that a failing mod leaves the table as it was. */
interface State {
  entries: (TlvOption | undefined)[];
  byKey: Map<number, number>;
  /** One byte per 4-byte unit of option space: 1 = allocated. */
  used: Uint8Array;
}

export class TlvTable {
  private state: State = { entries: new Array<TlvOption | undefined>(TLV_MAX_FIELDS).fill(undefined), byKey: new Map(), used: new Uint8Array(UNITS) };
  /** Flows (or anything else) using each tun_metadata field; a used mapping cannot be deleted. */
  private readonly refs = new Uint32Array(TLV_MAX_FIELDS);
  /** Bumped on every change, so users of the mapping can tell theirs is stale. */
  version = 0;

  /** The option tun_metadata<index> is mapped to, if any. */
  get(index: number): TlvOption | undefined {
    return this.state.entries[index];
  }

  /** The tun_metadata index that option (class, type) is mapped to, if any. */
  indexOf(optionClass: number, optionType: number): number | undefined {
    return this.state.byKey.get(optionKey(optionClass, optionType));
  }

  /** Every mapped option, by index. */
  mappings(): TlvOption[] {
    return this.state.entries.filter((e): e is TlvOption => e !== undefined);
  }

  /** Bytes of option space taken by the mapped options. */
  get allocatedSpace(): number {
    return this.mappings().reduce((n, e) => n + e.len, 0);
  }

  /**
   * A flow starts using tun_metadata<index> (in its match or actions): the
   * mapping must exist, and stays until every user let go of it.
   */
  ref(index: number): void {
    if (!this.state.entries[index]) throw new OfError('NXFMFC_INVALID_TLV_FIELD', `tun_metadata${index} is not mapped`);
    this.refs[index]++;
  }

  unref(index: number): void {
    if (this.refs[index] > 0) this.refs[index]--;
  }

  inUse(index: number): boolean {
    return this.refs[index] > 0;
  }

  /** ref (delta 1) or unref (-1) every field of a bitmap (bit i: tun_metadata<i>), all or none on ref. */
  refBits(bits: bigint, delta: 1 | -1): void {
    if (bits === 0n) return;
    const fields: number[] = [];
    for (let i = 0; bits; i++, bits >>= 1n) if (bits & 1n) fields.push(i);
    if (delta > 0) {
      const missing = fields.find((i) => !this.state.entries[i]);
      if (missing !== undefined) throw new OfError('NXFMFC_INVALID_TLV_FIELD', `tun_metadata${missing} is not mapped`);
      for (const i of fields) this.refs[i]++;
    } else {
      for (const i of fields) this.unref(i);
    }
  }

  /**
   * Applies an NXT_TLV_TABLE_MOD, whole or not at all, with OVS's errors:
   * NXTTMFC_BAD_COMMAND / BAD_OPT_LEN / BAD_FIELD_IDX for a malformed message,
   * ALREADY_MAPPED (the index is taken), DUP_ENTRY (the class and type are
   * mapped elsewhere), TABLE_FULL (no option space left) on add, and
   * INVALID_TLV_DEL when a delete or clear would unmap a field in use.
   * Deleting an index that is not mapped is not an error.
   */
  mod(body: Nx2Bodies['NXT_TLV_TABLE_MOD']): void {
    checkTlvTableMod(body);
    const next = body.command === 2 ? emptyState() : copyState(this.state);
    if (body.command === 0) {
      for (const m of body.maps) addEntry(next, m);
    } else {
      const gone = body.command === 1 ? body.maps.map((m) => m.index) : this.mappings().map((e) => e.index);
      const busy = gone.find((i) => this.refs[i] > 0);
      if (busy !== undefined) throw new OfError('NXTTMFC_INVALID_TLV_DEL', `tun_metadata${busy} is used by a flow`);
      if (body.command === 1) for (const i of gone) delEntry(next, i);
    }
    this.state = next;
    this.version++;
  }

  /** The body of NXT_TLV_TABLE_REPLY. */
  reply(): Nx2Bodies['NXT_TLV_TABLE_REPLY'] {
    const maps: TlvMap[] = this.mappings().map((e) => ({ option_class: e.optionClass, option_type: e.optionType, option_len: e.len, index: e.index }));
    return { max_option_space: TLV_MAX_OPTION_SPACE, max_fields: TLV_MAX_FIELDS, maps };
  }
}

function emptyState(): State {
  return { entries: new Array<TlvOption | undefined>(TLV_MAX_FIELDS).fill(undefined), byKey: new Map(), used: new Uint8Array(UNITS) };
}

function copyState(s: State): State {
  return { entries: [...s.entries], byKey: new Map(s.byKey), used: s.used.slice() };
}

function addEntry(s: State, m: TlvMap): void {
  if (s.entries[m.index]) throw new OfError('NXTTMFC_ALREADY_MAPPED', `tun_metadata${m.index} is already mapped`);
  const key = optionKey(m.option_class, m.option_type);
  if (s.byKey.has(key)) throw new OfError('NXTTMFC_DUP_ENTRY', `option class 0x${m.option_class.toString(16)} type ${m.option_type} is already mapped`);
  const spans: TlvSpan[] = [];
  for (let left = m.option_len / 4; left > 0;) {
    const span = allocate(s.used, left);
    if (!span) throw new OfError('NXTTMFC_TABLE_FULL', `no room for ${m.option_len} more bytes of options`);
    spans.push({ offset: span.start * 4, len: span.len * 4 });
    left -= span.len;
  }
  s.entries[m.index] = { index: m.index, optionClass: m.option_class, optionType: m.option_type, len: m.option_len, spans };
  s.byKey.set(key, m.index);
}

function delEntry(s: State, index: number): void {
  const e = s.entries[index];
  if (!e) return;
  for (const sp of e.spans) s.used.fill(0, sp.offset / 4, (sp.offset + sp.len) / 4);
  s.entries[index] = undefined;
  s.byKey.delete(optionKey(e.optionClass, e.optionType));
}

/**
 * OVS's allocation: the first free run of at least `want` units gives them
 * from its start; failing that the longest free run is taken whole and the
 * caller asks again for the rest. Undefined when no unit is free.
 */
function allocate(used: Uint8Array, want: number): { start: number; len: number } | undefined {
  let best: { start: number; len: number } | undefined;
  for (let i = 0; i < used.length;) {
    if (used[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < used.length && !used[j] && j - i < want) j++;
    if (j - i === want) {
      best = { start: i, len: want };
      break;
    }
    if (!best || j - i > best.len) best = { start: i, len: j - i };
    i = j + 1;
  }
  if (best) used.fill(1, best.start, best.start + best.len);
  return best;
}

// ------------------------------------------------------------ flows using tun_metadata

/** Bit i set for each tun_metadata<i> an action list reads or writes (set_field, load, move; nested lists too). */
export function tlvBitsOfActions(list: readonly TextAction[]): bigint {
  let bits = 0n;
  const use = (name: string) => {
    const i = tunMetadataIndex(name);
    if (i !== undefined) bits |= 1n << BigInt(i);
  };
  for (const a of list) {
    switch (a.type) {
      case 'set_field': use(a.field.name); break;
      case 'move': use(a.src.field.name); use(a.dst.field.name); break;
      case 'write_actions': case 'clone': bits |= tlvBitsOfActions(a.actions); break;
      case 'ct': bits |= tlvBitsOfActions(a.exec); break;
      default: break;
    }
  }
  return bits;
}

/**
 * An action list checked against the bridge's mapping, as OVS decodes actions with its vl_mff_map: a
 * tun_metadata field must be mapped (NXFMFC_INVALID_TLV_FIELD), a move may not reach past its mapped length
 * (OFPBAC_BAD_SET_LEN), and a set_field or load takes the mapped length, keeping the leading bytes of a
 * longer value. The same list when nothing changed.
 */
export function bindTunMetadataActions(list: readonly TextAction[], table: TlvTable): readonly TextAction[] {
  if (tlvBitsOfActions(list) === 0n) return list;
  return list.map((a) => bindAction(a, table));
}

function mappedLen(name: string, table: TlvTable): number | undefined {
  const i = tunMetadataIndex(name);
  if (i === undefined) return undefined;
  const e = table.get(i);
  if (!e) throw new OfError('NXFMFC_INVALID_TLV_FIELD', `${name} is not mapped to a Geneve option`);
  return e.len;
}

function bindAction(a: TextAction, table: TlvTable): TextAction {
  switch (a.type) {
    case 'set_field': {
      const len = mappedLen(a.field.name, table);
      if (len === undefined) return a;
      const value = a.load ? a.value << BigInt(a.load.ofs) : a.value;
      const mask = a.load ? ((1n << BigInt(a.load.n_bits)) - 1n) << BigInt(a.load.ofs) : a.mask;
      const fit = fitTunMetadata(a.len === undefined ? (mask === undefined ? { value } : { value, mask }) : (mask === undefined ? { value, len: a.len } : { value, mask, len: a.len }), len);
      // Replies carry it in the shortest form, as ovs-vswitchd encodes a set_field (no `len`).
      return fit.masked
        ? { type: 'set_field', field: a.field, value: fit.value, mask: fit.mask, as: 'set_field' }
        : { type: 'set_field', field: a.field, value: fit.value, as: 'set_field' };
    }
    case 'move': {
      // A mapped field's header in replies carries its mapped length (OVS's nxm_header_from_mff).
      const bind = (sf: SubfieldRef): SubfieldRef => {
        const len = mappedLen(sf.field.name, table);
        if (len === undefined) return sf;
        if (sf.ofs + sf.n_bits > 8 * len) {
          throw new OfError('OFPBAC_BAD_SET_LEN', `${sf.field.name}[${sf.ofs}..${sf.ofs + sf.n_bits - 1}] is beyond its ${len} mapped bytes`);
        }
        return { ...sf, len };
      };
      return { ...a, src: bind(a.src), dst: bind(a.dst) };
    }
    case 'write_actions': case 'clone': return { ...a, actions: [...bindTunMetadataActions(a.actions, table)] };
    case 'ct': return { ...a, exec: [...bindTunMetadataActions(a.exec, table)] };
    default: return a;
  }
}

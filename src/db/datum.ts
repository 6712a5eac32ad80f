// OVSDB values: atoms and datums (RFC 7047 §5.1), their JSON wire forms,
// constraint checks, and the update2 diff representation.
//
// A datum is kept as sorted, duplicate-free parallel arrays, the same canonical
// form ovsdb-server uses, so equality and diffs are linear merges.
import { randomUUID } from 'node:crypto';
import { OvsdbError, syntaxError } from './errors.js';
import type { BaseType, ColumnType } from './schema.js';

/** integer and real are numbers, boolean a boolean, string and uuid strings (uuids lowercase). */
export type Atom = string | number | boolean;

export interface Datum {
  keys: Atom[];
  /** Parallel to keys for maps, null for sets and scalars. */
  values: Atom[] | null;
}

/** Resolves `["named-uuid", name]` references inside a transaction. */
export interface NamedUuids {
  resolve(name: string): string | undefined;
}

export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const LOWER_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function newUuid(): string {
  return randomUUID();
}


/** Total order of atoms of one type; strings compare as UTF-8 bytes, as OVS's strcmp does. */
export function atomCompare(a: Atom, b: Atom): number {
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return 0;
    // UTF-16 order equals UTF-8 byte order unless the first difference
    // involves a code unit at or above U+D800 (surrogates sort differently).
    const n = Math.min(a.length, b.length);
    let i = 0;
    while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
    if (i === n) return a.length < b.length ? -1 : 1;
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca < 0xd800 && cb < 0xd800) return ca < cb ? -1 : 1;
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  // Mixed types never happen inside one column; order them deterministically anyway.
  return typeof a < typeof b ? -1 : 1;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A string prints bare in OVS's text form unless it could be read back as something else. */
export function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || UUID_RE.test(s);
}

/** An atom as OVS prints it in messages and in ovs-vsctl output: strings bare unless they need quotes. */
export function atomToText(base: BaseType, a: Atom): string {
  if (base.type === 'string') return stringNeedsQuotes(a as string) ? JSON.stringify(a) : (a as string);
  return String(a);
}

/** A datum as OVS prints it, e.g. `br0`, `[1, 2]`, `{a=b}`. */
export function datumToText(t: ColumnType, d: Datum): string {
  const parts = d.keys.map((k, i) =>
    t.value !== undefined ? `${atomToText(t.key, k)}=${atomToText(t.value, d.values![i]!)}` : atomToText(t.key, k),
  );
  const body = parts.join(', ');
  if (t.max === 1 && d.keys.length > 0) return body;
  return t.value !== undefined ? `{${body}}` : `[${body}]`;
}

function rangeError(n: number, lo: number | undefined, hi: number | undefined): OvsdbError {
  let details: string;
  if (lo !== undefined && hi !== undefined) details = `${n} is not in the valid range ${lo} to ${hi} (inclusive)`;
  else if (lo !== undefined) details = `${n} is less than minimum allowed value ${lo}`;
  else details = `${n} is greater than maximum allowed value ${hi}`;
  return new OvsdbError('constraint violation', details);
}

/** Checks an atom against its base type's constraints (enum, ranges, lengths). */
export function checkAtomConstraints(base: BaseType, a: Atom): void {
  if (base.enum !== undefined) {
    if (!base.enum.some((e) => atomCompare(e, a) === 0)) {
      const allowed = base.enum.map((e) => atomToText(base, e)).join(', ');
      throw new OvsdbError(
        'constraint violation',
        `${atomToText(base, a)} is not one of the allowed values ([${allowed}])`,
      );
    }
    return;
  }
  switch (base.type) {
    case 'integer': {
      const n = a as number;
      if ((base.minInteger !== undefined && n < base.minInteger) || (base.maxInteger !== undefined && n > base.maxInteger)) {
        throw rangeError(n, base.minInteger, base.maxInteger);
      }
      break;
    }
    case 'real': {
      const n = a as number;
      if ((base.minReal !== undefined && n < base.minReal) || (base.maxReal !== undefined && n > base.maxReal)) {
        throw rangeError(n, base.minReal, base.maxReal);
      }
      break;
    }
    case 'string': {
      const s = a as string;
      const lo = base.minLength;
      const hi = base.maxLength;
      if (lo === undefined && hi === undefined) break;
      const len = utf8Length(s);
      if (lo !== undefined && len < lo) {
        throw new OvsdbError(
          'constraint violation',
          `"${s}" length ${len} is less than minimum allowed length ${lo}`,
        );
      }
      if (hi !== undefined && len > hi) {
        throw new OvsdbError(
          'constraint violation',
          `"${s}" length ${len} is greater than maximum allowed length ${hi}`,
        );
      }
      break;
    }
    default:
      break;
  }
}

/** Parses one atom of the given base type from JSON and checks its constraints. */
export function atomFromJson(base: BaseType, json: unknown, symtab?: NamedUuids): Atom {
  let a: Atom;
  switch (base.type) {
    case 'integer':
      if (typeof json !== 'number' || !Number.isInteger(json)) throw syntaxError(json, 'expected integer');
      a = json;
      break;
    case 'real':
      if (typeof json !== 'number') throw syntaxError(json, 'expected real');
      a = json;
      break;
    case 'boolean':
      if (typeof json !== 'boolean') throw syntaxError(json, 'expected boolean');
      a = json;
      break;
    case 'string':
      if (typeof json !== 'string') throw syntaxError(json, 'expected string');
      a = json;
      break;
    case 'uuid': {
      if (!Array.isArray(json) || json.length !== 2 || typeof json[1] !== 'string') {
        throw syntaxError(json, 'expected ["uuid", <uuid>] or ["named-uuid", <name>]');
      }
      if (json[0] === 'uuid') {
        if (LOWER_UUID_RE.test(json[1])) a = json[1];
        else if (UUID_RE.test(json[1])) a = json[1].toLowerCase();
        else throw syntaxError(json, `"${json[1]}" is not a valid UUID`);
      } else if (json[0] === 'named-uuid') {
        const resolved = symtab?.resolve(json[1]);
        if (resolved === undefined) throw syntaxError(json, `named-uuid string "${json[1]}" not defined`);
        a = resolved;
      } else {
        throw syntaxError(json, 'expected ["uuid", <uuid>] or ["named-uuid", <name>]');
      }
      break;
    }
  }
  checkAtomConstraints(base, a);
  return a;
}

export function atomToJson(base: BaseType, a: Atom, uuidToJson?: (u: string) => unknown): unknown {
  if (base.type === 'uuid') return uuidToJson ? uuidToJson(a as string) : ['uuid', a];
  return a;
}

function sortDatum(keys: Atom[], values: Atom[] | null, json: unknown): Datum {
  // Clients (the OVS IDL among them) usually send sets already sorted: check
  // that in one pass before paying for a sort.
  let sorted = true;
  for (let i = 1; i < keys.length; i++) {
    const c = atomCompare(keys[i - 1]!, keys[i]!);
    if (c === 0) throw syntaxError(json, values ? 'map contains duplicate key' : 'set contains duplicate value');
    if (c > 0) {
      sorted = false;
      break;
    }
  }
  if (sorted) return { keys, values };
  const idx = keys.map((_, i) => i);
  idx.sort((i, j) => atomCompare(keys[i]!, keys[j]!));
  const k = idx.map((i) => keys[i]!);
  for (let i = 1; i < k.length; i++) {
    if (atomCompare(k[i - 1]!, k[i]!) === 0) {
      throw syntaxError(json, values ? 'map contains duplicate key' : 'set contains duplicate value');
    }
  }
  return { keys: k, values: values ? idx.map((i) => values[i]!) : null };
}

/** Parses a datum of the given column type from its JSON wire form, checking every constraint. */
export function datumFromJson(type: ColumnType, json: unknown, symtab?: NamedUuids): Datum {
  let d: Datum;
  if (type.value !== undefined) {
    if (!Array.isArray(json) || json.length !== 2 || json[0] !== 'map' || !Array.isArray(json[1])) {
      throw syntaxError(json, 'expected ["map", [[<key>, <value>], ...]]');
    }
    const keys: Atom[] = [];
    const values: Atom[] = [];
    for (const pair of json[1] as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) throw syntaxError(pair, 'expected [<key>, <value>] pair');
      keys.push(atomFromJson(type.key, pair[0], symtab));
      values.push(atomFromJson(type.value, pair[1], symtab));
    }
    d = sortDatum(keys, values, json);
  } else if (Array.isArray(json) && json.length === 2 && json[0] === 'set') {
    if (!Array.isArray(json[1])) throw syntaxError(json, 'expected ["set", [<atom>, ...]]');
    d = sortDatum(
      (json[1] as unknown[]).map((a) => atomFromJson(type.key, a, symtab)),
      null,
      json,
    );
  } else {
    d = { keys: [atomFromJson(type.key, json, symtab)], values: null };
  }
  const n = d.keys.length;
  if (n < type.min || n > type.max) {
    const what = type.value !== undefined ? 'map' : 'set';
    const max = type.max === Infinity ? '4294967295' : String(type.max);
    throw syntaxError(json, `${what} must have ${type.min} to ${max} members but ${n} are present`);
  }
  return d;
}

/** The OVS wire form: a 1-element set is sent as its bare atom, maps always as ["map", ...]. */
export function datumToJson(type: ColumnType, d: Datum, uuidToJson?: (u: string) => unknown): unknown {
  if (type.value !== undefined) {
    const vt = type.value;
    return ['map', d.keys.map((k, i) => [atomToJson(type.key, k, uuidToJson), atomToJson(vt, d.values![i]!, uuidToJson)])];
  }
  if (d.keys.length === 1) return atomToJson(type.key, d.keys[0]!, uuidToJson);
  return ['set', d.keys.map((k) => atomToJson(type.key, k, uuidToJson))];
}

export function atomDefault(base: BaseType): Atom {
  switch (base.type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

export function datumDefault(type: ColumnType): Datum {
  if (type.min === 0) return { keys: [], values: type.value ? [] : null };
  return {
    keys: [atomDefault(type.key)],
    values: type.value ? [atomDefault(type.value)] : null,
  };
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  const n = a.keys.length;
  if (n !== b.keys.length) return false;
  for (let i = 0; i < n; i++) if (a.keys[i] !== b.keys[i]) return false;
  if (a.values && b.values) {
    for (let i = 0; i < n; i++) if (a.values[i] !== b.values[i]) return false;
  }
  return true;
}

export function datumIsDefault(type: ColumnType, d: Datum): boolean {
  if (type.min === 0) return d.keys.length === 0;
  return datumEquals(d, datumDefault(type));
}

/** Size and per-atom constraints of a whole datum. */
export function checkConstraints(type: ColumnType, d: Datum): void {
  const n = d.keys.length;
  if (n < type.min || n > type.max) {
    const max = type.max === Infinity ? '4294967295' : String(type.max);
    throw new OvsdbError(
      'constraint violation',
      `${type.value ? 'map' : 'set'} must have ${type.min} to ${max} members but ${n} are present`,
    );
  }
  for (const k of d.keys) checkAtomConstraints(type.key, k);
  if (d.values && type.value) for (const v of d.values) checkAtomConstraints(type.value, v);
}

/** Index of key in d.keys (binary search), or -(insertion point) - 1. */
export function datumFind(d: Datum, key: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = atomCompare(d.keys[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Can hold more than one value: only such columns are sent and logged as diffs. */
export function isComposite(type: ColumnType): boolean {
  return type.max > 1;
}

/**
 * The update2 "modify" form of a change: a column that holds at most one value
 * (scalar, optional, or a map of at most one pair) carries its new value;
 * a set the symmetric difference; a map the added keys (new value), the removed
 * keys (old value) and the changed keys (new value).
 */
export function datumDiff(type: ColumnType, oldD: Datum, newD: Datum): Datum {
  if (!isComposite(type)) return newD;
  const keys: Atom[] = [];
  const values: Atom[] | null = type.value ? [] : null;
  let i = 0;
  let j = 0;
  const ok = oldD.keys;
  const nk = newD.keys;
  while (i < ok.length || j < nk.length) {
    const c = i >= ok.length ? 1 : j >= nk.length ? -1 : atomCompare(ok[i]!, nk[j]!);
    if (c < 0) {
      keys.push(ok[i]!);
      values?.push(oldD.values![i]!);
      i++;
    } else if (c > 0) {
      keys.push(nk[j]!);
      values?.push(newD.values![j]!);
      j++;
    } else {
      if (values && oldD.values![i] !== newD.values![j]) {
        keys.push(nk[j]!);
        values.push(newD.values![j]!);
      }
      i++;
      j++;
    }
  }
  return { keys, values };
}

/** Inverse of datumDiff: old + diff = new. */
export function datumApplyDiff(type: ColumnType, oldD: Datum, diff: Datum): Datum {
  if (!isComposite(type)) return diff;
  const keys: Atom[] = [];
  const values: Atom[] | null = type.value ? [] : null;
  let i = 0;
  let j = 0;
  const ok = oldD.keys;
  const dk = diff.keys;
  while (i < ok.length || j < dk.length) {
    const c = i >= ok.length ? 1 : j >= dk.length ? -1 : atomCompare(ok[i]!, dk[j]!);
    if (c < 0) {
      keys.push(ok[i]!);
      values?.push(oldD.values![i]!);
      i++;
    } else if (c > 0) {
      keys.push(dk[j]!);
      values?.push(diff.values![j]!);
      j++;
    } else {
      // Present in both: a set member or an unchanged-value map key is removed;
      // a map key with a different value takes the new value.
      if (values && oldD.values![i] !== diff.values![j]) {
        keys.push(dk[j]!);
        values.push(diff.values![j]!);
      }
      i++;
      j++;
    }
  }
  return { keys, values };
}

/** Builds a canonical datum from unsorted atoms (duplicates: last value wins for maps, dropped for sets). */
export function makeDatum(keys: Atom[], values?: Atom[]): Datum {
  const idx = keys.map((_, i) => i);
  idx.sort((a, b) => atomCompare(keys[a]!, keys[b]!) || a - b);
  const outK: Atom[] = [];
  const outV: Atom[] | null = values ? [] : null;
  for (const i of idx) {
    const k = keys[i]!;
    if (outK.length > 0 && atomCompare(outK[outK.length - 1]!, k) === 0) {
      if (outV) outV[outV.length - 1] = values![i]!;
      continue;
    }
    outK.push(k);
    outV?.push(values![i]!);
  }
  return { keys: outK, values: outV };
}

/**
 * Parses the JSON of an update2 "modify" diff or a logged diff. A diff of a
 * composite column may hold more members than the column itself allows (it
 * lists removed and added members together), so only atoms are checked.
 */
export function diffFromJson(type: ColumnType, json: unknown, symtab?: NamedUuids): Datum {
  if (!isComposite(type)) return datumFromJson(type, json, symtab);
  return datumFromJson({ ...type, min: 0, max: Infinity }, json, symtab);
}

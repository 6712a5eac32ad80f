// OVSDB mutations (RFC 7047 §5.1 <mutation>): arithmetic on numbers, applied
// to every element of a set, and insert/delete on sets and maps.
import { OvsdbError } from './errors.js';
import { atomCompare, checkAtomConstraints, datumFromJson } from './datum.js';
import type { Atom, Datum, NamedUuids } from './datum.js';
import { findColumn, isMap, isScalar, isSet } from './schema.js';
import type { BaseType, ColumnSchema, ColumnType, TableSchema } from './schema.js';
import { errorAt, typeToEnglish } from './condition.js';

export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';

export interface Mutation {
  column: ColumnSchema;
  mutator: Mutator;
  arg: Datum;
  /** For map "delete": whether arg is a set of keys rather than a map. */
  keysOnly: boolean;
}

const MUTATORS: ReadonlySet<string> = new Set(['+=', '-=', '*=', '/=', '%=', 'insert', 'delete']);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function typeMismatch(json: unknown, m: string, column: ColumnSchema): OvsdbError {
  return errorAt(
    json,
    'syntax error',
    `Type mismatch: "${m}" operator may not be applied to column ${column.name} of type ${typeToEnglish(column.type)}.`,
  );
}

export function parseMutation(table: TableSchema, json: unknown, symtab?: NamedUuids): Mutation {
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw errorAt(json, 'syntax error', 'Parse error in mutation.');
  }
  const [columnName, name, argJson] = json as [string, string, unknown];
  const column = findColumn(table, columnName);
  if (!column) throw errorAt(json, 'unknown column', `No column ${columnName} in table ${table.name}.`);
  if (!column.mutable) {
    throw errorAt(json, 'constraint violation', `Cannot mutate immutable column ${columnName} in table ${table.name}.`);
  }
  if (!MUTATORS.has(name)) throw new OvsdbError('unknown mutator', `No mutator named ${name}.`);
  const mutator = name as Mutator;
  const t = column.type;
  if (mutator === 'insert' || mutator === 'delete') {
    if (!isSet(t) && !isMap(t)) throw typeMismatch(json, mutator, column);
    const argType: ColumnType = { ...t, min: 0, max: mutator === 'delete' ? Infinity : t.max };
    try {
      return { column, mutator, arg: datumFromJson(argType, argJson, symtab), keysOnly: false };
    } catch (e) {
      // A map "delete" may also name just the keys to remove.
      if (mutator !== 'delete' || !isMap(t)) throw e;
      const keysType: ColumnType = { key: t.key, min: 0, max: Infinity };
      return { column, mutator, arg: datumFromJson(keysType, argJson, symtab), keysOnly: true };
    }
  }
  if (
    (!isScalar(t) && !isSet(t)) ||
    (t.key.type !== 'integer' && t.key.type !== 'real') ||
    (mutator === '%=' && t.key.type === 'real')
  ) {
    throw typeMismatch(json, mutator, column);
  }
  // The operand is one number of the column's atomic type, without the column's range limits.
  const argType: ColumnType = { key: { type: t.key.type }, min: 1, max: 1 };
  return { column, mutator, arg: datumFromJson(argType, argJson, symtab), keysOnly: false };
}

export function parseMutations(table: TableSchema, json: readonly unknown[], symtab?: NamedUuids): Mutation[] {
  return json.map((m) => parseMutation(table, m, symtab));
}

function rangeError(m: Mutator): OvsdbError {
  return new OvsdbError('range error', `Result of "${m}" operation is out of range.`);
}

function arith(m: Mutator, isInteger: boolean, x: number, y: number): number {
  if (isInteger) {
    // 64-bit signed semantics, as OVS: overflow is a range error, division truncates.
    const bx = BigInt(x);
    const by = BigInt(y);
    let r: bigint;
    switch (m) {
      case '+=':
        r = bx + by;
        break;
      case '-=':
        r = bx - by;
        break;
      case '*=':
        r = bx * by;
        break;
      default:
        if (by === 0n) throw new OvsdbError('domain error', 'Division by zero.');
        r = m === '/=' ? bx / by : bx % by;
        break;
    }
    if (r < INT64_MIN || r > INT64_MAX) throw rangeError(m);
    return Number(r);
  }
  let r: number;
  switch (m) {
    case '+=':
      r = x + y;
      break;
    case '-=':
      r = x - y;
      break;
    case '*=':
      r = x * y;
      break;
    default:
      if (y === 0) throw new OvsdbError('domain error', 'Division by zero.');
      r = x / y;
      break;
  }
  if (!Number.isFinite(r)) throw rangeError(m);
  return r;
}

function checkCount(t: ColumnType, d: Datum): void {
  const n = d.keys.length;
  if (n < t.min || n > t.max) {
    throw new OvsdbError('constraint violation', `Attempted to store ${n} elements in ${typeToEnglish(t)}.`);
  }
}

type Compare = (a: Atom, b: Atom) => number;

/** A comparator matching the datum order of a base type; uuids and numbers skip the general string path. */
function comparatorFor(base: BaseType): Compare {
  switch (base.type) {
    case 'uuid':
      return (a, b) => (a === b ? 0 : a < b ? -1 : 1);
    case 'integer':
    case 'real':
      return (a, b) => (a as number) - (b as number);
    default:
      return atomCompare;
  }
}

/** Union that keeps existing map keys' values (RFC 7047: inserting a present key is ignored). */
function union(a: Datum, b: Datum, cmp: Compare): Datum {
  if (b.keys.length === 0) return a;
  const keys: Atom[] = [];
  const values: Atom[] | null = a.values ? [] : null;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : cmp(a.keys[i]!, b.keys[j]!);
    if (c <= 0) {
      keys.push(a.keys[i]!);
      values?.push(a.values![i]!);
      i++;
      if (c === 0) j++;
    } else {
      keys.push(b.keys[j]!);
      values?.push(b.values![j]!);
      j++;
    }
  }
  return { keys, values };
}

/** a minus the elements of b (for maps, pairs must match both key and value unless keysOnly). */
function subtract(a: Datum, b: Datum, keysOnly: boolean, cmp: Compare): Datum {
  if (b.keys.length === 0 || a.keys.length === 0) return a;
  const keys: Atom[] = [];
  const values: Atom[] | null = a.values ? [] : null;
  let j = 0;
  for (let i = 0; i < a.keys.length; i++) {
    const k = a.keys[i]!;
    while (j < b.keys.length && cmp(b.keys[j]!, k) < 0) j++;
    const hit = j < b.keys.length && cmp(b.keys[j]!, k) === 0 && (keysOnly || !a.values || b.values![j] === a.values[i]);
    if (hit) continue;
    keys.push(k);
    if (values) values.push(a.values![i]!);
  }
  return keys.length === a.keys.length ? a : { keys, values };
}

/** The datum that results from applying one mutation to `d`. Throws OvsdbError. */
export function mutateDatum(m: Mutation, d: Datum): Datum {
  const t = m.column.type;
  switch (m.mutator) {
    case 'insert': {
      const out = union(d, m.arg, comparatorFor(t.key));
      checkCount(t, out);
      return out;
    }
    case 'delete': {
      const out = subtract(d, m.arg, m.keysOnly, comparatorFor(t.key));
      checkCount(t, out);
      return out;
    }
    default: {
      const y = m.arg.keys[0] as number;
      const isInteger = t.key.type === 'integer';
      const keys = d.keys.map((x) => arith(m.mutator, isInteger, x as number, y));
      for (const k of keys) checkAtomConstraints(t.key, k);
      // Per-element arithmetic can reorder or merge a set's members.
      keys.sort(atomCompare);
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1] === keys[i]) {
          throw new OvsdbError('constraint violation', `Result of "${m.mutator}" operation contains duplicates.`);
        }
      }
      return { keys, values: null };
    }
  }
}

/** Applies mutations in order to a row's (copied, writable) data map. Throws OvsdbError. */
export function applyMutations(mutations: readonly Mutation[], data: Map<string, Datum>): void {
  for (const m of mutations) {
    const cur = data.get(m.column.name) ?? { keys: [], values: m.column.type.value ? [] : null };
    data.set(m.column.name, mutateDatum(m, cur));
  }
}

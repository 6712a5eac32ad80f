// OVSDB conditions (RFC 7047 §5.1 <condition>, plus OVS's bare true/false
// clauses and ordering on optional numbers), and a few value helpers shared
// by mutations and transactions.
import { OvsdbError, sortedJson } from './errors.js';
export { sortedJson } from './errors.js';
export { atomToText, datumToText } from './datum.js';
import { atomCompare, datumEquals, datumFind, datumFromJson } from './datum.js';
import type { Atom, Datum, NamedUuids } from './datum.js';
import { findColumn, isOptional, isScalar, isSet } from './schema.js';
import type { ColumnSchema, ColumnType, TableSchema } from './schema.js';
import type { Row } from './database.js';

export type ConditionFunction = '<' | '<=' | '==' | '!=' | '>=' | '>' | 'includes' | 'excludes';

export interface Clause {
  /** 'true'/'false' are the bare boolean clauses; they ignore column and arg. */
  fn: ConditionFunction | 'true' | 'false';
  column: ColumnSchema;
  arg: Datum;
}

const FUNCTIONS: ReadonlySet<string> = new Set(['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes']);

/** An error whose "syntax" member quotes the offending JSON, as ovsdb_syntax_error does. */
export function errorAt(json: unknown, tag: string, details: string): OvsdbError {
  return new OvsdbError(tag, details, json === undefined ? undefined : sortedJson(json));
}

/** OVS's English rendering of a column type, e.g. "set of up to 3 integers". */
export function typeToEnglish(t: ColumnType): string {
  if (isScalar(t)) return t.key.type;
  const isMap = t.value !== undefined;
  let s = isMap ? 'map' : 'set';
  if (t.max === Infinity) s += t.min ? ` of ${t.min} or more` : ' of';
  else if (t.min) s += ` of ${t.min} to ${t.max}`;
  else s += ` of up to ${t.max}`;
  return isMap ? `${s} (${t.key.type}, ${t.value!.type}) pairs` : `${s} ${t.key.type}s`;
}

/** "", ", ", ", and " or " and " before item i of n, as in English lists. */
export function listDelimiter(i: number, n: number): string {
  if (i === 0) return '';
  if (i < n - 1) return ', ';
  return n > 2 ? ', and ' : ' and ';
}

const uuidDatums = new WeakMap<Row, Datum>();

/** The value of a column in a row, including the implicit `_uuid` and `_version`. */
export function rowDatum(row: Row, column: string): Datum {
  if (column === '_uuid') {
    let d = uuidDatums.get(row);
    if (!d) {
      d = { keys: [row.uuid], values: null };
      uuidDatums.set(row, d);
    }
    return d;
  }
  if (column === '_version') return { keys: [row.version], values: null };
  return row.data.get(column) ?? { keys: [], values: null };
}

/** Total order on datums used for sorting rows (size first, then atoms, then values). */
export function datumCompare(a: Datum, b: Datum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = atomCompare(a.keys[i]!, b.keys[i]!);
    if (c) return c;
  }
  if (a.values && b.values) {
    for (let i = 0; i < a.values.length; i++) {
      const c = atomCompare(a.values[i]!, b.values[i]!);
      if (c) return c;
    }
  }
  return 0;
}

/** Whether (key, value) of `a` at i is in `b`; values are compared only when `a` has them. */
export function datumHas(b: Datum, key: Atom, value: Atom | undefined): boolean {
  const j = datumFind(b, key);
  if (j < 0) return false;
  return value === undefined || (b.values !== null && b.values[j] === value);
}

/** Parses one clause of a condition against a table. */
export function parseClause(table: TableSchema, json: unknown, symtab?: NamedUuids): Clause {
  if (json === true || json === false) {
    return { fn: json ? 'true' : 'false', column: findColumn(table, '_uuid')!, arg: { keys: [], values: null } };
  }
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw errorAt(json, 'syntax error', 'Parse error in condition.');
  }
  const [columnName, fnName, argJson] = json as [string, string, unknown];
  const column = findColumn(table, columnName);
  if (!column) throw errorAt(json, 'unknown column', `No column ${columnName} in table ${table.name}.`);
  if (!FUNCTIONS.has(fnName)) throw new OvsdbError('unknown function', `No function named ${fnName}.`);
  const fn = fnName as ConditionFunction;
  let type: ColumnType = column.type;
  switch (fn) {
    case '<':
    case '<=':
    case '>':
    case '>=':
      // Ordering is allowed on numbers that are present or optional (a missing value never matches).
      if (!(isScalar(type) || isOptional(type)) || (type.key.type !== 'integer' && type.key.type !== 'real')) {
        throw errorAt(
          json,
          'syntax error',
          `Type mismatch: "${fn}" operator may not be applied to column ${column.name} of type ${typeToEnglish(type)}.`,
        );
      }
      type = { ...type, min: 1 };
      break;
    case 'excludes':
      if (!isScalar(type)) type = { ...type, min: 0, max: Infinity };
      break;
    case 'includes':
      if (!isScalar(type)) type = { ...type, min: 0 };
      break;
    default:
      break;
  }
  return { fn, column, arg: datumFromJson(type, argJson, symtab) };
}

/** Parses a condition (an array of clauses). */
export function parseCondition(table: TableSchema, json: readonly unknown[], symtab?: NamedUuids): Clause[] {
  return json.map((c) => parseClause(table, c, symtab));
}

export function clauseMatches(c: Clause, row: Row): boolean {
  if (c.fn === 'true') return true;
  if (c.fn === 'false') return false;
  const field = rowDatum(row, c.column.name);
  const type = c.column.type;
  const arg = c.arg;
  const single = isScalar(type) || isOptional(type);
  if (single && field.keys.length === 1 && arg.keys.length === 1) {
    const cmp = atomCompare(field.keys[0]!, arg.keys[0]!);
    switch (c.fn) {
      case '<':
        return cmp < 0;
      case '<=':
        return cmp <= 0;
      case '==':
      case 'includes':
        return cmp === 0;
      case '!=':
      case 'excludes':
        return cmp !== 0;
      case '>=':
        return cmp >= 0;
      case '>':
        return cmp > 0;
    }
  }
  switch (c.fn) {
    case '==':
      return datumEquals(field, arg);
    case '!=':
      return !datumEquals(field, arg);
    case 'includes':
      if (arg.keys.length > field.keys.length) return false;
      for (let i = 0; i < arg.keys.length; i++) {
        if (!datumHas(field, arg.keys[i]!, arg.values?.[i])) return false;
      }
      return true;
    case 'excludes':
      for (let i = 0; i < arg.keys.length; i++) {
        if (datumHas(field, arg.keys[i]!, arg.values?.[i])) return false;
      }
      return true;
    default:
      // An ordering on a missing optional value is false.
      return false;
  }
}

export function matchesAll(clauses: readonly Clause[], row: Row): boolean {
  for (const c of clauses) if (!clauseMatches(c, row)) return false;
  return true;
}

/**
 * If the clauses pin `_uuid` to a single value (a `_uuid == U` or `_uuid includes U`
 * clause), returns U so the caller can look the row up instead of scanning.
 */
export function pinnedUuid(clauses: readonly Clause[]): string | undefined {
  for (const c of clauses) {
    if (c.column.name === '_uuid' && (c.fn === '==' || c.fn === 'includes') && c.arg.keys.length === 1) {
      return c.arg.keys[0] as string;
    }
  }
  return undefined;
}

/**
 * Compiles a monitor_cond `where` for one table: a row is selected when ANY
 * clause matches (an empty condition selects every row), as ovsdb-server's
 * conditional monitoring does. Named uuids are not allowed here. Throws OvsdbError.
 */
export function compileWhere(table: TableSchema, where: unknown): (row: Row) => boolean {
  if (!Array.isArray(where)) throw errorAt(where, 'syntax error', 'Parse error in condition.');
  const clauses = parseCondition(table, where);
  if (clauses.length === 0 || clauses.some((c) => c.fn === 'true')) return () => true;
  const live = clauses.filter((c) => c.fn !== 'false');
  if (live.length === 0) return () => false;
  // Equality on one column against many values (the common "_uuid == X or _uuid == Y"): one set lookup.
  const eqCol = live[0]!.column;
  if (
    live.length > 1 &&
    live.every((c) => c.fn === '==' && c.column === eqCol && c.arg.keys.length === 1 && c.arg.values === null) &&
    (isScalar(eqCol.type) || isOptional(eqCol.type))
  ) {
    const wanted = new Set<Atom>(live.map((c) => c.arg.keys[0]!));
    const name = eqCol.name;
    return (row) => {
      const d = rowDatum(row, name);
      return d.keys.length === 1 && wanted.has(d.keys[0]!);
    };
  }
  return (row) => {
    for (const c of live) if (clauseMatches(c, row)) return true;
    return false;
  };
}

/** Whether a column type is a set (or optional value) OVS lets `+=` and friends act on per element. */
export function isNumericCollection(t: ColumnType): boolean {
  return (isScalar(t) || isSet(t)) && (t.key.type === 'integer' || t.key.type === 'real');
}

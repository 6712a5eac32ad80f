// OVSDB schemas (RFC 7047 §3.2 plus the Open vSwitch extensions: ephemeral and
// immutable columns, indexes, isRoot, maxRows), parsed into a typed form and
// printed back in the normalized form ovsdb-server serves from get_schema.
import { syntaxError } from './errors.js';
import type { Atom } from './datum.js';
import { atomCompare, atomFromJson, atomToJson } from './datum.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';

export interface BaseType {
  type: AtomicType;
  enum?: Atom[];
  minInteger?: number;
  maxInteger?: number;
  minReal?: number;
  maxReal?: number;
  minLength?: number;
  maxLength?: number;
  refTable?: string;
  refType?: 'strong' | 'weak';
}

export interface ColumnType {
  key: BaseType;
  value?: BaseType;
  min: number;
  /** Infinity means "unlimited". */
  max: number;
}

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  ephemeral: boolean;
  mutable: boolean;
}

export interface TableSchema {
  name: string;
  columns: Map<string, ColumnSchema>;
  maxRows?: number;
  isRoot: boolean;
  indexes: string[][];
}

export interface DatabaseSchema {
  name: string;
  version: string;
  cksum?: string;
  tables: Map<string, TableSchema>;
  /** The schema in the normalized JSON form ovsdb-server sends for get_schema. */
  json: Record<string, unknown>;
}

const ATOMIC_TYPES: readonly AtomicType[] = ['integer', 'real', 'boolean', 'string', 'uuid'];
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;

export const UUID_COLUMN: ColumnSchema = {
  name: '_uuid',
  type: { key: { type: 'uuid' }, min: 1, max: 1 },
  ephemeral: false,
  mutable: false,
};

export const VERSION_COLUMN: ColumnSchema = {
  name: '_version',
  type: { key: { type: 'uuid' }, min: 1, max: 1 },
  ephemeral: true,
  mutable: false,
};

export function isMap(t: ColumnType): boolean {
  return t.value !== undefined;
}

export function isSet(t: ColumnType): boolean {
  return t.value === undefined && !(t.min === 1 && t.max === 1);
}

/** Exactly one atom, always present (OVS's ovsdb_type_is_scalar). */
export function isScalar(t: ColumnType): boolean {
  return t.value === undefined && t.min === 1 && t.max === 1;
}

/** Zero or one atom. */
export function isOptional(t: ColumnType): boolean {
  return t.value === undefined && t.min === 0 && t.max === 1;
}

/** Looks up a column, including the implicit `_uuid` and `_version`. */
export function findColumn(table: TableSchema, name: string): ColumnSchema | undefined {
  if (name === '_uuid') return UUID_COLUMN;
  if (name === '_version') return VERSION_COLUMN;
  return table.columns.get(name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkMembers(json: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(json)) {
    if (!allowed.includes(k)) throw syntaxError(json, `${what}: unknown member "${k}"`);
  }
}

function optInteger(json: Record<string, unknown>, member: string): number | undefined {
  const v = json[member];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw syntaxError(json, `"${member}" must be an integer`);
  return v;
}

function optNumber(json: Record<string, unknown>, member: string): number | undefined {
  const v = json[member];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw syntaxError(json, `"${member}" must be a number`);
  return v;
}

function parseBaseType(json: unknown, forValue: boolean): BaseType {
  if (typeof json === 'string') {
    if (!ATOMIC_TYPES.includes(json as AtomicType)) throw syntaxError(json, `unknown atomic type "${json}"`);
    return { type: json as AtomicType };
  }
  if (!isObject(json)) throw syntaxError(json, `${forValue ? 'value' : 'key'} type must be a string or an object`);
  checkMembers(
    json,
    ['type', 'enum', 'minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength', 'refTable', 'refType'],
    'base type',
  );
  const t = json.type;
  if (typeof t !== 'string' || !ATOMIC_TYPES.includes(t as AtomicType)) {
    throw syntaxError(json, 'base type "type" must be an atomic type name');
  }
  const base: BaseType = { type: t as AtomicType };
  switch (base.type) {
    case 'integer':
      base.minInteger = optInteger(json, 'minInteger');
      base.maxInteger = optInteger(json, 'maxInteger');
      if (base.minInteger !== undefined && base.maxInteger !== undefined && base.minInteger > base.maxInteger) {
        throw syntaxError(json, '"minInteger" exceeds "maxInteger"');
      }
      break;
    case 'real':
      base.minReal = optNumber(json, 'minReal');
      base.maxReal = optNumber(json, 'maxReal');
      if (base.minReal !== undefined && base.maxReal !== undefined && base.minReal > base.maxReal) {
        throw syntaxError(json, '"minReal" exceeds "maxReal"');
      }
      break;
    case 'string':
      base.minLength = optInteger(json, 'minLength');
      base.maxLength = optInteger(json, 'maxLength');
      if (base.minLength !== undefined && base.maxLength !== undefined && base.minLength > base.maxLength) {
        throw syntaxError(json, '"minLength" exceeds "maxLength"');
      }
      break;
    case 'uuid': {
      const ref = json.refTable;
      if (ref !== undefined) {
        if (typeof ref !== 'string' || !ID_RE.test(ref)) throw syntaxError(json, '"refTable" must be a table name');
        base.refTable = ref;
        const rt = json.refType ?? 'strong';
        if (rt !== 'strong' && rt !== 'weak') throw syntaxError(json, '"refType" must be "strong" or "weak"');
        base.refType = rt;
      } else if (json.refType !== undefined) {
        throw syntaxError(json, '"refType" requires "refTable"');
      }
      break;
    }
    case 'boolean':
      break;
  }
  if (json.enum !== undefined) {
    // The enum is a set of atoms of this very base type (without the enum).
    const plain: BaseType = { ...base };
    const raw = json.enum;
    const atoms: unknown[] = Array.isArray(raw) && raw[0] === 'set' && Array.isArray(raw[1]) ? (raw[1] as unknown[]) : [raw];
    const values = atoms.map((a) => atomFromJson(plain, a));
    values.sort(atomCompare);
    base.enum = values.filter((v, i) => i === 0 || atomCompare(values[i - 1]!, v) !== 0);
  }
  return base;
}

function parseColumnType(json: unknown): ColumnType {
  if (typeof json === 'string') return { key: parseBaseType(json, false), min: 1, max: 1 };
  if (!isObject(json)) throw syntaxError(json, 'column type must be a string or an object');
  checkMembers(json, ['key', 'value', 'min', 'max'], 'column type');
  if (json.key === undefined) throw syntaxError(json, 'column type requires "key"');
  const key = parseBaseType(json.key, false);
  const value = json.value === undefined ? undefined : parseBaseType(json.value, true);
  const min = json.min === undefined ? 1 : json.min;
  const max = json.max === undefined ? 1 : json.max;
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 0 || min > 1) {
    throw syntaxError(json, '"min" must be 0 or 1');
  }
  let maxN: number;
  if (max === 'unlimited') maxN = Infinity;
  else if (typeof max === 'number' && Number.isInteger(max) && max >= 1) maxN = max;
  else throw syntaxError(json, '"max" must be a positive integer or "unlimited"');
  if (min > maxN) throw syntaxError(json, '"min" exceeds "max"');
  return { key, value, min, max: maxN };
}

function parseColumn(name: string, json: unknown): ColumnSchema {
  if (!isObject(json)) throw syntaxError(json, `column "${name}" must be an object`);
  checkMembers(json, ['type', 'ephemeral', 'mutable'], `column "${name}"`);
  const eph = json.ephemeral ?? false;
  const mut = json.mutable ?? true;
  if (typeof eph !== 'boolean') throw syntaxError(json, '"ephemeral" must be a boolean');
  if (typeof mut !== 'boolean') throw syntaxError(json, '"mutable" must be a boolean');
  return { name, type: parseColumnType(json.type), ephemeral: eph, mutable: mut };
}

function parseTable(name: string, json: unknown): TableSchema & { rootGiven: boolean } {
  if (!isObject(json)) throw syntaxError(json, `table "${name}" must be an object`);
  checkMembers(json, ['columns', 'maxRows', 'isRoot', 'indexes'], `table "${name}"`);
  if (!isObject(json.columns)) throw syntaxError(json, `table "${name}" requires "columns"`);
  const columns = new Map<string, ColumnSchema>();
  for (const [cname, cjson] of Object.entries(json.columns)) {
    if (!ID_RE.test(cname)) throw syntaxError(json.columns, `"${cname}" is not a valid column name`);
    if (cname.startsWith('_')) throw syntaxError(json.columns, `names beginning with "_" are reserved`);
    columns.set(cname, parseColumn(cname, cjson));
  }
  const maxRows = optInteger(json, 'maxRows');
  if (maxRows !== undefined && maxRows < 1) throw syntaxError(json, '"maxRows" must be at least 1');
  if (json.isRoot !== undefined && typeof json.isRoot !== 'boolean') throw syntaxError(json, '"isRoot" must be a boolean');
  const indexes: string[][] = [];
  if (json.indexes !== undefined) {
    if (!Array.isArray(json.indexes)) throw syntaxError(json, '"indexes" must be an array');
    for (const idx of json.indexes) {
      if (!Array.isArray(idx) || idx.length === 0) throw syntaxError(idx, 'index must be a nonempty array of column names');
      for (const c of idx) {
        if (typeof c !== 'string') throw syntaxError(idx, 'index must be an array of column names');
        const col = c === '_uuid' || c === '_version' ? undefined : columns.get(c);
        if (!col) throw syntaxError(idx, `table ${name} has no column ${c}`);
        if (col.ephemeral) throw syntaxError(idx, `ephemeral columns (such as ${c}) may not be indexed`);
      }
      indexes.push(idx as string[]);
    }
  }
  return { name, columns, maxRows, isRoot: json.isRoot === true, indexes, rootGiven: json.isRoot === true };
}

export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw syntaxError(json, 'database schema must be a JSON object');
  checkMembers(json, ['name', 'version', 'cksum', 'tables', 'doc'], 'database schema');
  const { name, version, cksum } = json;
  if (typeof name !== 'string' || !ID_RE.test(name)) throw syntaxError(json, 'schema "name" must be an id');
  if (typeof version !== 'string' || !VERSION_RE.test(version)) {
    throw syntaxError(json, 'schema "version" must be of the form x.y.z');
  }
  if (cksum !== undefined && typeof cksum !== 'string') throw syntaxError(json, '"cksum" must be a string');
  if (!isObject(json.tables)) throw syntaxError(json, 'schema requires "tables"');
  const tables = new Map<string, TableSchema>();
  let anyRoot = false;
  for (const [tname, tjson] of Object.entries(json.tables)) {
    if (!ID_RE.test(tname) || tname.startsWith('_')) throw syntaxError(json.tables, `"${tname}" is not a valid table name`);
    const t = parseTable(tname, tjson);
    anyRoot ||= t.rootGiven;
    const { rootGiven: _r, ...table } = t;
    tables.set(tname, table);
  }
  // Schemas from before garbage collection existed name no root table; OVS then
  // treats every table as a root, and so do we.
  if (!anyRoot) for (const t of tables.values()) t.isRoot = true;
  for (const t of tables.values()) {
    for (const c of t.columns.values()) {
      for (const base of [c.type.key, c.type.value]) {
        if (base?.refTable !== undefined && !tables.has(base.refTable)) {
          throw syntaxError(json, `column ${t.name}.${c.name} refers to undefined table ${base.refTable}`);
        }
      }
    }
  }
  const schema: DatabaseSchema = { name, version, cksum, tables, json: {} };
  schema.json = schemaToJson(schema);
  return schema;
}

function baseTypeToJson(b: BaseType): unknown {
  const out: Record<string, unknown> = { type: b.type };
  if (b.enum !== undefined) {
    out.enum = b.enum.length === 1 ? atomToJson(b, b.enum[0]!) : ['set', b.enum.map((a) => atomToJson(b, a))];
  }
  if (b.minInteger !== undefined) out.minInteger = b.minInteger;
  if (b.maxInteger !== undefined) out.maxInteger = b.maxInteger;
  if (b.minReal !== undefined) out.minReal = b.minReal;
  if (b.maxReal !== undefined) out.maxReal = b.maxReal;
  if (b.minLength !== undefined) out.minLength = b.minLength;
  if (b.maxLength !== undefined) out.maxLength = b.maxLength;
  if (b.refTable !== undefined) {
    out.refTable = b.refTable;
    if (b.refType === 'weak') out.refType = 'weak';
  }
  return Object.keys(out).length === 1 ? b.type : out;
}

export function columnTypeToJson(t: ColumnType): unknown {
  const key = baseTypeToJson(t.key);
  if (t.value === undefined && t.min === 1 && t.max === 1 && typeof key === 'string') return key;
  const out: Record<string, unknown> = { key };
  if (t.value !== undefined) out.value = baseTypeToJson(t.value);
  if (t.min !== 1) out.min = t.min;
  if (t.max !== 1) out.max = t.max === Infinity ? 'unlimited' : t.max;
  return out;
}

/**
 * The normalized JSON form of a schema, as ovsdb-server returns it. When every
 * table is a root, "isRoot" says nothing and is left out, as OVS does.
 */
export function schemaToJson(s: DatabaseSchema): Record<string, unknown> {
  let allRoot = true;
  for (const t of s.tables.values()) allRoot &&= t.isRoot;
  const tables: Record<string, unknown> = {};
  for (const t of s.tables.values()) {
    const columns: Record<string, unknown> = {};
    for (const c of t.columns.values()) {
      const cj: Record<string, unknown> = { type: columnTypeToJson(c.type) };
      if (c.ephemeral) cj.ephemeral = true;
      if (!c.mutable) cj.mutable = false;
      columns[c.name] = cj;
    }
    const tj: Record<string, unknown> = { columns };
    if (t.maxRows !== undefined) tj.maxRows = t.maxRows;
    if (t.isRoot && !allRoot) tj.isRoot = true;
    if (t.indexes.length > 0) tj.indexes = t.indexes.map((i) => [...i]);
    tables[t.name] = tj;
  }
  const out: Record<string, unknown> = { name: s.name, version: s.version };
  if (s.cksum !== undefined) out.cksum = s.cksum;
  out.tables = tables;
  return out;
}

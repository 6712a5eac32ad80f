// The database as tsw-vsctl's commands see it: the IDL replica overlaid with
// the transaction being built (rows inserted, written or deleted by earlier
// commands of the same invocation are visible to later ones, as in OVS's IDL),
// plus ovs-vsctl's rules for naming tables, columns and records.
import type { Datum } from '../../db/index.js';
import type { Idl, IdlRow, IdlTxn, TxnRow } from '../../db/index.js';
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from '../../db/index.js';
import type { Command } from './cmdline.js';
import type { Table } from './output.js';
import { SymbolTable, VsctlError, isUuid } from './values.js';

/** ovs-vsctl's score_partial_match: exact > case/dash-insensitive > longest prefix. */
function scorePartialMatch(name: string, s: string): number {
  if (name === s) return Number.MAX_SAFE_INTEGER;
  const norm = (c: string): string => (c === '-' ? '_' : c.toLowerCase());
  let score = 0;
  for (; ; score++) {
    const a = name[score] ?? '';
    const b = s[score] ?? '';
    if (norm(a) !== norm(b)) break;
    if (a === '') return Number.MAX_SAFE_INTEGER - 1;
  }
  return score >= s.length ? score : 0;
}

function bestMatch<T>(items: T[], nameOf: (t: T) => string, wanted: string): { match?: T; all: string[] } {
  let best = 0;
  let matches: T[] = [];
  for (const it of items) {
    const score = scorePartialMatch(nameOf(it), wanted);
    if (score && score >= best) {
      if (score > best) matches = [];
      matches.push(it);
      best = score;
    }
  }
  return { match: matches.length === 1 ? matches[0] : undefined, all: matches.map(nameOf).sort() };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortedTables(schema: DatabaseSchema): TableSchema[] {
  return [...schema.tables.values()].sort((a, b) => byName(a.name, b.name));
}

export function sortedColumns(table: TableSchema): ColumnSchema[] {
  return [...table.columns.values()].filter((c) => !c.name.startsWith('_')).sort((a, b) => byName(a.name, b.name));
}

export function getTable(schema: DatabaseSchema, name: string): TableSchema {
  const r = bestMatch(sortedTables(schema), (t) => t.name, name);
  if (r.match) return r.match;
  if (!r.all.length) throw new VsctlError(`unknown table "${name}"`);
  throw new VsctlError(`"${name}" matches multiple table names: ${r.all.join(', ')}`);
}

export function getColumn(table: TableSchema, name: string): ColumnSchema {
  const r = bestMatch(sortedColumns(table), (c) => c.name, name);
  if (r.match) return r.match;
  if (!r.all.length) throw new VsctlError(`${table.name} does not contain a column whose name matches "${name}"`);
  throw new VsctlError(`${table.name} contains more than one column whose name matches "${name}": ${r.all.join(', ')}`);
}

/** How records of a table may be named besides by UUID (ovs-vsctl's row_ids). */
interface RowId {
  table: string;
  column: string;
  /** Follow this uuid column of the named row to the record. */
  uuidColumn?: string;
}

const ROW_IDS: Record<string, RowId[]> = {
  Bridge: [{ table: 'Bridge', column: 'name' }],
  Controller: [{ table: 'Bridge', column: 'name', uuidColumn: 'controller' }],
  Interface: [{ table: 'Interface', column: 'name' }],
  Mirror: [{ table: 'Mirror', column: 'name' }],
  Manager: [{ table: 'Manager', column: 'target' }],
  NetFlow: [{ table: 'Bridge', column: 'name', uuidColumn: 'netflow' }],
  Port: [{ table: 'Port', column: 'name' }],
  QoS: [{ table: 'Port', column: 'name', uuidColumn: 'qos' }],
  sFlow: [{ table: 'Bridge', column: 'name', uuidColumn: 'sflow' }],
  Flow_Table: [{ table: 'Flow_Table', column: 'name' }],
  IPFIX: [{ table: 'Bridge', column: 'name', uuidColumn: 'ipfix' }],
  AutoAttach: [{ table: 'Bridge', column: 'name', uuidColumn: 'auto_attach' }],
  Flow_Sample_Collector_Set: [{ table: 'Flow_Sample_Collector_Set', column: 'id' }],
};

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    let d = Math.imul(data, 0xcc9e2d51) >>> 0;
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593) >>> 0;
    hash = (hash ^ d) >>> 0;
  }
  hash = rotl(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) >>> 0;
}

function mhashFinish(hash: number): number {
  hash = (hash ^ (hash >>> 16)) >>> 0;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash = (hash ^ (hash >>> 13)) >>> 0;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** OVS's hash_string(s, 0) (the murmur-based hash_bytes of a non-SSE4.2 build). */
export function ovsHashString(s: string): number {
  const b = Buffer.from(s, 'utf8');
  let hash = 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) hash = mhashAdd(hash, b.readUInt32LE(i));
  if (i < b.length) {
    const tail = Buffer.alloc(4);
    b.copy(tail, 0, i);
    hash = mhashAdd(hash, tail.readUInt32LE(0));
  }
  return mhashFinish((hash ^ b.length) >>> 0);
}

function calcMask(capacity: number): number {
  let m = Math.floor(capacity / 2);
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  return m | ((m & 1) << 1);
}

/** The iteration order of an OVS hmap after inserting `items` one by one (head insertion, growth by resize). */
export function hmapOrder<T>(items: T[], hash: (t: T) => number): T[] {
  let mask = 0;
  let buckets: T[][] = [[]];
  let n = 0;
  for (const it of items) {
    buckets[hash(it) & mask].unshift(it);
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const nb: T[][] = Array.from({ length: newMask + 1 }, () => []);
        for (const bucket of buckets) for (const node of bucket) nb[hash(node) & newMask].unshift(node);
        buckets = nb;
        mask = newMask;
      }
    }
  }
  return buckets.flat();
}

/**
 * Rows in the order ovs-vsctl's IDL iterates them. The server's rows (in the
 * order it sent them) pass through two OVS hash tables: the JSON object they
 * arrive in, keyed by the UUID string, then the IDL's table keyed by the
 * UUID's first 32 bits.
 */
export function hashOrder<T extends { uuid: string }>(rows: T[]): T[] {
  const parsed = hmapOrder(rows, (r) => ovsHashString(r.uuid));
  return hmapOrder(parsed, (r) => parseInt(r.uuid.slice(0, 8), 16) >>> 0);
}

/** Thrown by br-exists to exit with a status and no message. */
export class VsctlExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

export class DbContext {
  readonly schema: DatabaseSchema;
  private readonly inserted = new Map<string, Map<string, TxnRow>>();
  private readonly deleted = new Set<string>();
  private readonly views = new Map<string, TxnRow>();

  constructor(
    readonly idl: Idl,
    readonly txn: IdlTxn,
    readonly symtab: SymbolTable,
  ) {
    this.schema = idl.schema;
  }

  /** Current rows of `table`, in ovs-vsctl's iteration order. */
  rows(table: string): IdlRow[] {
    const out: IdlRow[] = [];
    for (const r of this.idl.table(table).values()) {
      if (!this.deleted.has(r.uuid)) out.push(this.views.get(r.uuid) ?? r);
    }
    for (const r of this.inserted.get(table)?.values() ?? []) out.push(r);
    return hashOrder(out);
  }

  row(table: string, uuid: string): IdlRow | undefined {
    if (this.deleted.has(uuid)) return undefined;
    const ins = this.inserted.get(table)?.get(uuid);
    if (ins) return ins;
    const base = this.idl.row(table, uuid);
    return base ? (this.views.get(uuid) ?? base) : undefined;
  }

  /** The row with this uuid in any table. */
  anyRow(uuid: string): IdlRow | undefined {
    for (const t of this.schema.tables.keys()) {
      const r = this.row(t, uuid);
      if (r) return r;
    }
    return undefined;
  }

  get(row: IdlRow, column: string): Datum {
    return (this.views.get(row.uuid) ?? row).get(column);
  }

  columnType(table: string, column: string): ColumnType {
    const cs = this.schema.tables.get(table)?.columns.get(column);
    if (!cs) throw new Error(`no column ${table}.${column}`);
    return cs.type;
  }

  set(row: IdlRow, column: string, d: Datum): void {
    const view = this.views.get(row.uuid) ?? this.txn.update(row);
    this.views.set(row.uuid, view);
    view.set(column, d);
  }

  verify(row: IdlRow, column: string): void {
    this.txn.verify(row, column);
  }

  insert(table: string, uuid?: string): TxnRow {
    const row = this.txn.insert(table, uuid);
    let m = this.inserted.get(table);
    if (!m) this.inserted.set(table, (m = new Map()));
    m.set(row.uuid, row);
    this.views.set(row.uuid, row);
    return row;
  }

  delete(row: IdlRow): void {
    const ins = this.inserted.get(row.table);
    if (ins?.has(row.uuid)) ins.delete(row.uuid);
    else this.deleted.add(row.uuid);
    this.txn.delete(row);
    this.views.delete(row.uuid);
  }

  isMutable(row: IdlRow, column: ColumnSchema): boolean {
    return column.mutable || this.inserted.get(row.table)?.has(row.uuid) === true;
  }

  /** Names a record the way ovs-vsctl's ctl_get_row does. */
  getRow(table: TableSchema, id: string, mustExist: boolean): IdlRow | undefined {
    let row: IdlRow | undefined;
    if (isUuid(id)) row = this.row(table.name, id.toLowerCase());
    if (!row && id === '.') {
      const rows = this.rows(table.name);
      if (rows.length === 1) row = rows[0];
    }
    if (!row) {
      for (const rid of ROW_IDS[table.name] ?? []) {
        const r = this.rowById(table, rid, id);
        if (r === 'multiple') throw new VsctlError(`multiple rows in ${rid.table} match "${id}"`);
        if (r) {
          row = r;
          break;
        }
      }
    }
    if (!row && partialUuidLength(id) >= 4) {
      for (const r of this.rows(table.name)) {
        if (!r.uuid.startsWith(id)) continue;
        if (row) {
          throw new VsctlError(`${table.name} contains 2 or more rows whose UUIDs begin with ${id}: at least ${row.uuid} and ${r.uuid}`);
        }
        row = r;
      }
    }
    if (mustExist && !row) throw new VsctlError(`no row "${id}" in table ${table.name}`);
    return row;
  }

  private rowById(table: TableSchema, rid: RowId, id: string): IdlRow | 'multiple' | undefined {
    const nameType = this.columnType(rid.table, rid.column).key.type;
    if (nameType === 'integer' && !/^\d+$/.test(id)) return undefined;
    let referrer: IdlRow | undefined;
    for (const r of this.rows(rid.table)) {
      const d = this.get(r, rid.column);
      if (d.keys.length !== 1) continue;
      const name = d.keys[0];
      let equal: boolean;
      if (nameType === 'string') {
        const s = name as string;
        equal = s === id || (id.length >= 4 && isUuid(s) && s.startsWith(id));
      } else equal = name === Number(id);
      if (!equal) continue;
      if (referrer) return 'multiple';
      referrer = r;
    }
    if (!referrer) return undefined;
    if (!rid.uuidColumn) return referrer;
    this.verify(referrer, rid.uuidColumn);
    const u = this.get(referrer, rid.uuidColumn);
    return u.keys.length === 1 ? this.row(table.name, u.keys[0] as string) : undefined;
  }
}

function partialUuidLength(s: string): number {
  const tmpl = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';
  if (s.length > tmpl.length) return 0;
  for (let i = 0; i < s.length; i++) {
    const ok = tmpl[i] === 'x' ? /[0-9a-fA-F]/.test(s[i]) : s[i] === '-';
    if (!ok) return 0;
  }
  return s.length;
}

/** Per-command state while commands run (ovs-vsctl's ctl_context). */
export interface CommandContext {
  db: DbContext;
  cmd: Command;
  argv: string[];
  options: Map<string, string | null>;
  output: string;
  table: Table | null;
  lastCommand: boolean;
  /** Set by wait-until: re-run everything after the next database change. */
  tryAgain: boolean;
  invalidateCache(): void;
}

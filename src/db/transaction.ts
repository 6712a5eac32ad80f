// OVSDB "transact" semantics (RFC 7047 §5.2 and ovsdb-server's behaviour):
// operations run against a copy-on-write overlay of the database; if every
// operation succeeds, commit-time checks run (referential integrity, garbage
// collection, maxRows, weak references, unique indexes) and only then is the
// overlay applied to the Database, so a failed transaction leaves no trace.
//
// Results follow ovsdb-server exactly: a failed operation's error sits at its
// index and later operations get null; a commit-time failure is one extra
// element after all the operation results.
//
// A transaction that changes nothing (only selects, or updates to the values a
// row already has) returns change = null: nothing to log, nothing to monitor.
import { OvsdbError } from './errors.js';
import {
  checkAtomConstraints,
  datumDefault,
  datumEquals,
  datumFromJson,
  datumToJson,
  newUuid,
  UUID_RE,
  ZERO_UUID,
} from './datum.js';
import type { Datum, NamedUuids } from './datum.js';
import { findColumn } from './schema.js';
import type { ColumnSchema, TableSchema } from './schema.js';
import { datumsKey, diffRefColumn, forEachRef, indexKey } from './database.js';
import type { Change, Database, Row, RowChange, TableInfo } from './database.js';
import {
  datumCompare,
  datumToText,
  errorAt,
  listDelimiter,
  matchesAll,
  parseCondition,
  pinnedUuid,
  rowDatum,
  sortedJson,
} from './condition.js';
import type { Clause } from './condition.js';
import { applyMutations, parseMutations } from './mutation.js';

export { compileWhere } from './condition.js';

export interface TxnContext {
  /** Whether the session that sent the transaction owns the named lock. */
  hasLock(name: string): boolean;
  /** Current time in ms (the clock deadlines are measured on). */
  now(): number;
  /**
   * When the server first received this transaction, if it is re-running a
   * blocked one: "wait" timeouts are measured from here. Absent = now.
   */
  startedAt?: number;
  /** The server is read-only: only select, wait, abort, comment and assert may run. */
  readOnly?: boolean;
}

export type TxnOutcome =
  | { kind: 'done'; results: unknown[]; change: Change | null }
  | {
      kind: 'blocked';
      /** ms time at which to give up (null: wait forever); re-run the transaction after every commit until then. */
      deadline: number | null;
      /** What to reply at the deadline (or re-run with ctx.startedAt to get the same with the exact elapsed time). */
      results: unknown[];
    };

/** A row as the transaction sees it: old = committed row (null if inserted here), new = current value (null if deleted). */
interface TxnRow {
  uuid: string;
  old: Row | null;
  new: Row | null;
}

interface NamedSymbol {
  uuid: string;
  created: boolean;
}

/** Raised by a "wait" that is not satisfied yet but may be before its timeout (undefined = never times out). */
class Unsatisfied extends Error {
  constructor(readonly timeout: number | undefined) {
    super('unsatisfied wait');
  }
}

type MemberType = 'id' | 'string' | 'array' | 'object' | 'boolean' | 'integer';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function hasType(v: unknown, types: readonly MemberType[]): boolean {
  for (const t of types) {
    switch (t) {
      case 'id':
        if (typeof v === 'string' && ID_RE.test(v)) return true;
        break;
      case 'string':
        if (typeof v === 'string') return true;
        break;
      case 'array':
        if (Array.isArray(v)) return true;
        break;
      case 'object':
        if (isObject(v)) return true;
        break;
      case 'boolean':
        if (typeof v === 'boolean') return true;
        break;
      case 'integer':
        if (typeof v === 'number' && Number.isInteger(v)) return true;
        break;
    }
  }
  return false;
}

/** Reads the members of one operation, reporting the first problem the way ovsdb_parser does. */
class OpParser {
  error: OvsdbError | undefined;
  private readonly used = new Set<string>();
  readonly json: Record<string, unknown> | undefined;

  constructor(
    json: unknown,
    private readonly name: string,
  ) {
    this.json = isObject(json) ? json : undefined;
    if (!this.json) this.raise('Object expected.');
  }

  raise(msg: string): void {
    if (!this.error) {
      this.error = new OvsdbError(
        'syntax error',
        `Parsing ${this.name} failed: ${msg}`,
        this.json ? sortedJson(this.json) : undefined,
      );
    }
  }

  member(name: string, types: MemberType | MemberType[], optional = false): unknown {
    if (!this.json) return undefined;
    const v = this.json[name];
    if (v === undefined) {
      if (!optional) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    if (hasType(v, Array.isArray(types) ? types : [types])) {
      this.used.add(name);
      return v;
    }
    this.raise(`Type mismatch for member '${name}'.`);
    return undefined;
  }

  /** Flags members nobody asked for; returns the parse error, if any. */
  finish(): OvsdbError | undefined {
    if (!this.error && this.json) {
      const unused = Object.keys(this.json).filter((k) => !this.used.has(k));
      if (unused.length > 1) {
        const others = unused.length - 1;
        this.raise(`Member '${unused[0]}' and ${others} other member${others > 1 ? 's' : ''} are present but not allowed here.`);
      } else if (unused.length === 1) {
        this.raise(`Member '${unused[0]}' is present but not allowed here.`);
      }
    }
    return this.error;
  }
}

const READ_ONLY_OPS: ReadonlySet<string> = new Set(['select', 'wait', 'abort', 'comment', 'assert']);

function emptyDatum(): Datum {
  return { keys: [], values: null };
}

/** One transaction in progress: the overlay plus the named-uuid symbol table. */
class Txn implements NamedUuids {
  /** table -> uuid -> overlay row, in first-touch order. */
  readonly rows = new Map<string, Map<string, TxnRow>>();
  readonly symbols = new Map<string, NamedSymbol>();
  readonly comments: string[] = [];
  durable = false;

  constructor(
    readonly db: Database,
    readonly ctx: TxnContext,
    readonly elapsed: number,
  ) {}

  resolve(name: string): string {
    let s = this.symbols.get(name);
    if (!s) {
      // A forward reference: the insert that defines the name, if any, will take this uuid.
      s = { uuid: newUuid(), created: false };
      this.symbols.set(name, s);
    }
    return s.uuid;
  }

  overlay(table: string): Map<string, TxnRow> {
    let m = this.rows.get(table);
    if (!m) {
      m = new Map();
      this.rows.set(table, m);
    }
    return m;
  }

  info(table: string): TableInfo {
    return this.db.info.get(table)!;
  }

  /** The current version of a row, or undefined if it does not exist (now). */
  get(table: string, uuid: string): Row | undefined {
    const t = this.rows.get(table)?.get(uuid);
    if (t) return t.new ?? undefined;
    return this.db.tables.get(table)!.get(uuid);
  }

  /** Rows matching all clauses, in a stable order (committed rows, then rows inserted here). */
  query(table: string, clauses: readonly Clause[]): Row[] {
    const out: Row[] = [];
    const pinned = pinnedUuid(clauses);
    if (pinned !== undefined) {
      const row = this.get(table, pinned);
      if (row && matchesAll(clauses, row)) out.push(row);
      return out;
    }
    const overlay = this.rows.get(table);
    const viaIndex = this.indexCandidates(table, clauses);
    if (viaIndex) {
      if (viaIndex !== true && !overlay?.has(viaIndex.uuid) && matchesAll(clauses, viaIndex)) out.push(viaIndex);
      if (overlay) for (const t of overlay.values()) if (t.new && matchesAll(clauses, t.new)) out.push(t.new);
      return out;
    }
    for (const [uuid, committed] of this.db.tables.get(table)!) {
      const t = overlay?.get(uuid);
      const row = t ? t.new : committed;
      if (row && matchesAll(clauses, row)) out.push(row);
    }
    if (overlay) {
      for (const t of overlay.values()) {
        if (t.old === null && t.new !== null && matchesAll(clauses, t.new)) out.push(t.new);
      }
    }
    return out;
  }

  /**
   * If the clauses pin every column of a unique index with "==", the one
   * committed row that can match (true: none), so no table scan is needed;
   * rows changed in this transaction are checked separately by the caller.
   */
  private indexCandidates(table: string, clauses: readonly Clause[]): Row | true | undefined {
    const info = this.info(table);
    for (let i = 0; i < info.indexes.length; i++) {
      const datums: Datum[] = [];
      for (const col of info.indexes[i]!) {
        const c = clauses.find((cl) => cl.fn === '==' && cl.column.name === col);
        if (!c) break;
        datums.push(c.arg);
      }
      if (datums.length !== info.indexes[i]!.length) continue;
      const uuid = this.db.indexLookup(table, i, datumsKey(datums));
      return (uuid !== undefined && this.db.tables.get(table)!.get(uuid)) || true;
    }
    return undefined;
  }

  /** A writable copy of a row for this transaction (the committed row is never touched). */
  modify(table: string, row: Row): Row {
    const overlay = this.overlay(table);
    const t = overlay.get(row.uuid);
    if (t) {
      if (t.new === null) throw new Error(`modify of deleted row ${row.uuid}`);
      return t.new;
    }
    const copy: Row = { uuid: row.uuid, version: row.version, data: new Map(row.data) };
    overlay.set(row.uuid, { uuid: row.uuid, old: row, new: copy });
    return copy;
  }

  insert(table: string, row: Row): void {
    this.overlay(table).set(row.uuid, { uuid: row.uuid, old: null, new: row });
  }

  delete(table: string, row: Row): void {
    const overlay = this.overlay(table);
    const t = overlay.get(row.uuid);
    if (!t) overlay.set(row.uuid, { uuid: row.uuid, old: row, new: null });
    else if (t.old === null) overlay.delete(row.uuid);
    else t.new = null;
  }

  /** Whether a new row may take this uuid: not present, and not deleted earlier in this transaction. */
  mayCreate(table: string, uuid: string): boolean {
    return !this.db.tables.get(table)!.has(uuid) && !this.rows.get(table)?.has(uuid);
  }
}

// ---------------------------------------------------------------------------
// Operations

function parseTable(txn: Txn, p: OpParser, member = 'table'): TableSchema | undefined {
  const name = p.member(member, 'id') as string | undefined;
  if (name === undefined) return undefined;
  const t = txn.db.schema.tables.get(name);
  if (!t) p.raise(`No table named ${name}.`);
  return t;
}

/** Parses a <row> object into column datums (only the columns given). */
function parseRow(table: TableSchema, json: unknown, symtab: NamedUuids): Map<ColumnSchema, Datum> {
  if (!isObject(json)) throw errorAt(json, 'syntax error', 'row must be JSON object');
  const out = new Map<ColumnSchema, Datum>();
  for (const [name, value] of Object.entries(json)) {
    const column = findColumn(table, name);
    if (!column) throw errorAt(json, 'unknown column', `No column ${name} in table ${table.name}.`);
    out.set(column, datumFromJson(column.type, value, symtab));
  }
  return out;
}

/** Parses a "columns" member; absent means every column, `_uuid` and `_version` first. */
function parseColumnSet(table: TableSchema, json: unknown): ColumnSchema[] {
  if (json === undefined) {
    return [findColumn(table, '_uuid')!, findColumn(table, '_version')!, ...table.columns.values()];
  }
  const fail = () => errorAt(json, 'syntax error', 'array of distinct column names expected');
  if (!Array.isArray(json)) throw fail();
  const out: ColumnSchema[] = [];
  for (const name of json) {
    if (typeof name !== 'string') throw fail();
    const column = findColumn(table, name);
    if (!column) throw errorAt(json, 'syntax error', `${name} is not a valid column name`);
    if (out.includes(column)) throw fail();
    out.push(column);
  }
  return out;
}

function whereOf(txn: Txn, table: TableSchema, where: unknown): Clause[] {
  return parseCondition(table, where as unknown[], txn);
}

function rowKey(row: Row, columns: readonly ColumnSchema[]): string {
  let s = '';
  for (const c of columns) {
    const d = rowDatum(row, c.name);
    s += JSON.stringify(d.keys);
    if (d.values) s += JSON.stringify(d.values);
    s += '\u0001';
  }
  return s;
}

function rowToJson(row: Row, columns: readonly ColumnSchema[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.name] = datumToJson(c.type, rowDatum(row, c.name));
  return out;
}

function opInsert(txn: Txn, p: OpParser): Record<string, unknown> {
  const table = parseTable(txn, p);
  const uuidJson = p.member('uuid', 'string', true) as string | undefined;
  const uuidName = p.member('uuid-name', 'id', true) as string | undefined;
  const rowJson = p.member('row', 'object');
  if (p.error) throw p.error;
  let uuid: string | undefined;
  if (uuidJson !== undefined) {
    if (!UUID_RE.test(uuidJson)) throw errorAt(uuidJson, 'syntax error', 'bad uuid');
    uuid = uuidJson.toLowerCase();
    if (!txn.mayCreate(table!.name, uuid)) {
      throw errorAt(
        uuidJson,
        'duplicate uuid',
        'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
      );
    }
  }
  if (uuidName !== undefined) {
    const sym = txn.symbols.get(uuidName) ?? { uuid: newUuid(), created: false };
    if (sym.created) {
      throw errorAt(uuidName, 'duplicate uuid-name', 'This "uuid-name" appeared on an earlier "insert" operation.');
    }
    if (uuid !== undefined) sym.uuid = uuid;
    else uuid = sym.uuid;
    sym.created = true;
    txn.symbols.set(uuidName, sym);
  }
  uuid ??= newUuid();
  const t = table!;
  const given = parseRow(t, rowJson, txn);
  const data = new Map<string, Datum>();
  for (const c of t.columns.values()) {
    const d = given.get(c) ?? datumDefault(c.type);
    // Defaults are not checked by parsing; a single default atom may break a constraint.
    if (!given.has(c) && d.keys.length === 1) {
      checkAtomConstraints(c.type.key, d.keys[0]!);
      if (c.type.value && d.values) checkAtomConstraints(c.type.value, d.values[0]!);
    }
    data.set(c.name, d);
  }
  txn.insert(t.name, { uuid, version: newUuid(), data });
  return { uuid: ['uuid', uuid] };
}

function opSelect(txn: Txn, p: OpParser): Record<string, unknown> {
  const table = parseTable(txn, p);
  const where = p.member('where', 'array');
  const columnsJson = p.member('columns', 'array', true);
  const sortJson = p.member('sort', 'array', true);
  if (p.error) throw p.error;
  const t = table!;
  const clauses = whereOf(txn, t, where);
  const columns = parseColumnSet(t, columnsJson);
  const sort = sortJson === undefined ? [] : parseColumnSet(t, sortJson);
  let rows = txn.query(t.name, clauses);
  if (!columns.some((c) => c.name === '_uuid')) {
    // Without _uuid in the output, equal rows collapse into one (ovsdb_query_distinct).
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const k = rowKey(r, columns);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (sort.length > 0 && rows.length > 1) {
    rows.sort((a, b) => {
      for (const c of sort) {
        const r = datumCompare(rowDatum(a, c.name), rowDatum(b, c.name));
        if (r) return r;
      }
      return 0;
    });
  }
  return { rows: rows.map((r) => rowToJson(r, columns)) };
}

function opUpdate(txn: Txn, p: OpParser): Record<string, unknown> {
  const table = parseTable(txn, p);
  const where = p.member('where', 'array');
  const rowJson = p.member('row', 'object');
  if (p.error) throw p.error;
  const t = table!;
  const given = parseRow(t, rowJson, txn);
  for (const c of given.keys()) {
    if (!c.mutable) {
      throw errorAt(p.json, 'constraint violation', `Cannot update immutable column ${c.name} in table ${t.name}.`);
    }
  }
  const clauses = whereOf(txn, t, where);
  const rows = txn.query(t.name, clauses);
  for (const row of rows) {
    let same = true;
    for (const [c, d] of given) {
      if (!datumEquals(row.data.get(c.name) ?? emptyDatum(), d)) {
        same = false;
        break;
      }
    }
    if (same) continue;
    const w = txn.modify(t.name, row);
    for (const [c, d] of given) w.data.set(c.name, d);
  }
  return { count: rows.length };
}

function opMutate(txn: Txn, p: OpParser): Record<string, unknown> {
  const table = parseTable(txn, p);
  const where = p.member('where', 'array');
  const mutationsJson = p.member('mutations', 'array');
  if (p.error) throw p.error;
  const t = table!;
  const mutations = parseMutations(t, mutationsJson as unknown[], txn);
  const clauses = whereOf(txn, t, where);
  const rows = txn.query(t.name, clauses);
  for (const row of rows) applyMutations(mutations, txn.modify(t.name, row).data);
  return { count: rows.length };
}

function opDelete(txn: Txn, p: OpParser): Record<string, unknown> {
  const where = p.member('where', 'array');
  const table = parseTable(txn, p);
  if (p.error) throw p.error;
  const t = table!;
  const rows = txn.query(t.name, whereOf(txn, t, where));
  for (const row of rows) txn.delete(t.name, row);
  return { count: rows.length };
}

function opWait(txn: Txn, p: OpParser): Record<string, unknown> {
  const timeout = p.member('timeout', 'integer', true) as number | undefined;
  const where = p.member('where', 'array');
  const columnsJson = p.member('columns', 'array', true);
  const until = p.member('until', 'string') as string | undefined;
  const rowsJson = p.member('rows', 'array') as unknown[] | undefined;
  const table = parseTable(txn, p);
  if (p.error) throw p.error;
  const t = table!;
  const clauses = whereOf(txn, t, where);
  const columns = parseColumnSet(t, columnsJson);
  if (timeout !== undefined) {
    if (timeout < 0) throw errorAt(timeout, 'syntax error', 'timeout must be nonnegative');
  }
  if (until !== '==' && until !== '!=') throw errorAt(until, 'syntax error', '"until" must be "==" or "!="');

  // The expected rows, as a set of their values in `columns` (unspecified columns take defaults).
  const expected = new Set<string>();
  for (const rj of rowsJson!) {
    const given = parseRow(t, rj, txn);
    const data = new Map<string, Datum>();
    for (const c of t.columns.values()) data.set(c.name, given.get(c) ?? datumDefault(c.type));
    const uuidCol = findColumn(t, '_uuid')!;
    const versionCol = findColumn(t, '_version')!;
    const row: Row = {
      uuid: (given.get(uuidCol)?.keys[0] as string | undefined) ?? ZERO_UUID,
      version: (given.get(versionCol)?.keys[0] as string | undefined) ?? ZERO_UUID,
      data,
    };
    expected.add(rowKey(row, columns));
  }
  let equal = true;
  const actual = new Set<string>();
  for (const row of txn.query(t.name, clauses)) {
    const k = rowKey(row, columns);
    if (!expected.has(k)) {
      equal = false;
      break;
    }
    actual.add(k);
  }
  if (equal) equal = actual.size === expected.size;
  if ((until === '==') === equal) return {};
  if (timeout !== undefined && txn.elapsed >= timeout) {
    throw txn.elapsed > 0
      ? new OvsdbError('timed out', `"wait" timed out after ${txn.elapsed} ms`)
      : new OvsdbError('timed out', '"where" clause test failed');
  }
  throw new Unsatisfied(timeout);
}

function opCommit(txn: Txn, p: OpParser): Record<string, unknown> {
  const durable = p.member('durable', 'boolean');
  if (durable === true) txn.durable = true;
  return {};
}

function opAbort(): Record<string, unknown> {
  throw new OvsdbError('aborted', 'aborted by request');
}

function opComment(txn: Txn, p: OpParser): Record<string, unknown> {
  const comment = p.member('comment', 'string') as string | undefined;
  if (comment !== undefined) txn.comments.push(comment);
  return {};
}

function opAssert(txn: Txn, p: OpParser): Record<string, unknown> {
  const lock = p.member('lock', 'id') as string | undefined;
  if (lock === undefined) return {};
  if (txn.ctx.hasLock(lock)) return {};
  throw new OvsdbError('not owner', `Asserted lock ${lock} not held.`);
}

type Executor = (txn: Txn, p: OpParser) => Record<string, unknown>;

const EXECUTORS: ReadonlyMap<string, Executor> = new Map<string, Executor>([
  ['insert', opInsert],
  ['select', opSelect],
  ['update', opUpdate],
  ['mutate', opMutate],
  ['delete', opDelete],
  ['wait', opWait],
  ['commit', opCommit],
  ['abort', opAbort],
  ['comment', opComment],
  ['assert', opAssert],
]);

function toOvsdbError(e: unknown): OvsdbError {
  if (e instanceof OvsdbError) return e;
  return new OvsdbError('internal error', e instanceof Error ? e.message : String(e));
}

/**
 * Executes the operations of one "transact" request (params without the
 * database name) and, if they all succeed and the commit checks pass, applies
 * the result to `db`.
 */
export function executeTransaction(db: Database, ops: unknown[], ctx: TxnContext): TxnOutcome {
  const now = ctx.now();
  const started = ctx.startedAt ?? now;
  const txn = new Txn(db, ctx, Math.max(0, now - started));
  const results: unknown[] = [];
  const n = ops.length;
  let failed = false;
  for (let i = 0; i < n; i++) {
    const p = new OpParser(ops[i], `ovsdb operation ${i + 1} of ${n}`);
    const opName = p.member('op', 'id') as string | undefined;
    let result: Record<string, unknown> | undefined;
    let error: OvsdbError | undefined;
    let readOnly = false;
    if (opName !== undefined) {
      const exec = EXECUTORS.get(opName);
      readOnly = READ_ONLY_OPS.has(opName);
      if (!exec) {
        p.raise(`No operation "${opName}"`);
      } else {
        try {
          result = exec(txn, p);
        } catch (e) {
          if (e instanceof Unsatisfied) {
            if (p.finish()) {
              error = p.error;
            } else {
              return blocked(results, i, n, started, e.timeout);
            }
          } else {
            error = toOvsdbError(e);
          }
        }
      }
    }
    // A parse error (including unexpected members) overrides any other outcome.
    const parseError = p.finish();
    if (parseError) error = parseError;
    if (!error && !readOnly) {
      if (ctx.readOnly) {
        error = new OvsdbError('not allowed', `${opName} operation not allowed when database server is in read only mode`);
      } else if (db.schema.name.startsWith('_')) {
        error = new OvsdbError(
          'not allowed',
          `${opName} operation not allowed on table in reserved database ${db.schema.name}`,
        );
      }
    }
    if (error) {
      results.push(error.toJSON());
      failed = true;
      break;
    }
    results.push(result);
  }
  if (failed) {
    while (results.length < n) results.push(null);
    return { kind: 'done', results, change: null };
  }
  try {
    const change = commit(txn);
    return { kind: 'done', results, change };
  } catch (e) {
    results.push(toOvsdbError(e).toJSON());
    return { kind: 'done', results, change: null };
  }
}

/**
 * The outcome of an unsatisfied "wait" with time left: ovsdb-server re-runs the
 * whole transaction after each commit, and at the wait's deadline replies with
 * the timeout error in the wait's slot.
 */
function blocked(done: readonly unknown[], index: number, n: number, started: number, timeout: number | undefined): TxnOutcome {
  const deadline = timeout === undefined ? null : started + timeout;
  const results: unknown[] = [...done];
  results[index] = new OvsdbError('timed out', `"wait" timed out after ${timeout ?? 0} ms`).toJSON();
  while (results.length < n) results.push(null);
  return { kind: 'blocked', deadline, results };
}

// ---------------------------------------------------------------------------
// Commit

function rowChanged(t: TxnRow): boolean {
  if (!t.old || !t.new) return true;
  for (const [name, d] of t.new.data) {
    if (!datumEquals(t.old.data.get(name) ?? emptyDatum(), d)) return true;
  }
  return false;
}

/** Calls fn for each strong reference atom added (+1) or removed (-1) between two versions of a row. */
function diffRefs(
  info: TableInfo,
  old: Row | null,
  nw: Row | null,
  fn: (table: string, uuid: string, delta: number, column: ColumnSchema) => void,
): void {
  const self = (old ?? nw)!.uuid;
  for (const rc of info.strong) {
    const name = rc.column.name;
    diffRefColumn(rc, old?.data.get(name), nw?.data.get(name), self, fn);
  }
}

function commit(txn: Txn): Change | null {
  const db = txn.db;

  // 1. Drop rows that did not actually change.
  for (const [, rows] of txn.rows) {
    for (const [uuid, t] of rows) if (!rowChanged(t)) rows.delete(uuid);
  }
  if (![...txn.rows.values()].some((m) => m.size > 0)) return null;

  // 2. Strong references: adjust counts by what changed and check every new target exists.
  const deltas = new Map<string, Map<string, number>>();
  const bump = (table: string, uuid: string, delta: number) => {
    let m = deltas.get(table);
    if (!m) {
      m = new Map();
      deltas.set(table, m);
    }
    m.set(uuid, (m.get(uuid) ?? 0) + delta);
  };
  const refCount = (table: string, uuid: string) => db.refCount(table, uuid) + (deltas.get(table)?.get(uuid) ?? 0);
  for (const [tname, rows] of txn.rows) {
    const info = txn.info(tname);
    if (info.strong.length === 0) continue;
    for (const t of rows.values()) {
      diffRefs(info, t.old, t.new, (target, uuid, delta, column) => {
        if (delta > 0 && !txn.rows.get(target)?.has(uuid) && !db.tables.get(target)!.has(uuid)) {
          throw new OvsdbError(
            'referential integrity violation',
            `Table ${tname} column ${column.name} row ${t.uuid} references nonexistent row ${uuid} in table ${target}.`,
          );
        }
        bump(target, uuid, delta);
      });
    }
  }
  for (const [tname, rows] of txn.rows) {
    for (const t of rows.values()) {
      if (t.new !== null) continue;
      const n = refCount(tname, t.uuid);
      if (n > 0) {
        throw new OvsdbError(
          'referential integrity violation',
          `cannot delete ${tname} row ${t.uuid} because of ${n} remaining reference(s)`,
        );
      }
    }
  }

  // 3. Garbage collection: rows of non-root tables left without strong references go,
  //    and so, in turn, may the rows only they referenced. Only rows this transaction
  //    touched or whose reference count it changed can have become garbage.
  const candidates: [string, string][] = [];
  for (const [tname, rows] of txn.rows) {
    if (txn.info(tname).schema.isRoot) continue;
    for (const t of rows.values()) if (t.new) candidates.push([tname, t.uuid]);
  }
  for (const [tname, m] of deltas) {
    if (txn.info(tname).schema.isRoot) continue;
    for (const [uuid, d] of m) if (d < 0) candidates.push([tname, uuid]);
  }
  const stack: [string, string][] = [];
  const collect = (tname: string, uuid: string) => {
    if (txn.info(tname).schema.isRoot) return;
    const row = txn.get(tname, uuid);
    if (!row || refCount(tname, uuid) !== 0) return;
    txn.delete(tname, row);
    forEachRef(txn.info(tname).strong, row, (target, u) => {
      bump(target, u, -1);
      if (refCount(target, u) === 0) stack.push([target, u]);
    });
  };
  for (const [tname, uuid] of candidates) {
    collect(tname, uuid);
    while (stack.length > 0) {
      const [t2, u2] = stack.pop()!;
      collect(t2, u2);
    }
  }

  // 4. maxRows.
  for (const [tname, rows] of txn.rows) {
    const max = txn.info(tname).schema.maxRows;
    if (max === undefined) continue;
    let n = db.tables.get(tname)!.size;
    for (const t of rows.values()) {
      if (!t.old && t.new) n++;
      else if (t.old && !t.new) n--;
    }
    if (n > max) {
      throw new OvsdbError(
        'constraint violation',
        `transaction causes "${tname}" table to contain ${n} rows, greater than the schema-defined limit of ${max} row(s)`,
      );
    }
  }

  // 5. Weak references: drop those to rows that are gone (deleted here, or never existed).
  assessWeakRefs(txn);

  // 6. Unique indexes.
  checkIndexes(txn);

  // 7. Build the change, giving modified rows a new _version, and apply it.
  const change: Change = { tables: new Map(), durable: txn.durable };
  if (txn.comments.length > 0) change.comment = txn.comments.join('\n');
  for (const [tname, rows] of txn.rows) {
    const out = new Map<string, RowChange>();
    for (const t of rows.values()) {
      if (t.old && t.new) {
        if (!rowChanged(t)) continue;
        t.new.version = newUuid();
      }
      out.set(t.uuid, { old: t.old, new: t.new });
    }
    if (out.size > 0) change.tables.set(tname, out);
  }
  if (change.tables.size === 0) return null;
  db.applyChange(change);
  return change;
}

function assessWeakRefs(txn: Txn): void {
  const db = txn.db;
  // Rows that will not exist after this transaction, per table.
  const gone = (table: string, uuid: string): boolean => {
    const t = txn.rows.get(table)?.get(uuid);
    if (t) return t.new === null;
    return !db.tables.get(table)!.has(uuid);
  };
  // Committed rows pointing weakly at a deleted row must be revisited.
  const toCheck = new Map<string, Set<string>>();
  const mark = (table: string, uuid: string) => {
    let s = toCheck.get(table);
    if (!s) {
      s = new Set();
      toCheck.set(table, s);
    }
    s.add(uuid);
  };
  for (const [tname, rows] of txn.rows) {
    for (const t of rows.values()) {
      if (t.new === null) {
        for (const src of db.weakReferrers(tname, t.uuid)) {
          const sp = src.indexOf(' ');
          mark(src.slice(0, sp), src.slice(sp + 1));
        }
      } else if (txn.info(tname).weak.length > 0) {
        mark(tname, t.uuid);
      }
    }
  }
  for (const [tname, uuids] of toCheck) {
    const info = txn.info(tname);
    for (const uuid of uuids) {
      const current = txn.get(tname, uuid);
      if (!current) continue;
      const t = txn.rows.get(tname)?.get(uuid);
      for (const rc of info.weak) {
        const name = rc.column.name;
        const d = current.data.get(name);
        if (!d || d.keys.length === 0) continue;
        let zero = false;
        const keep: number[] = [];
        for (let i = 0; i < d.keys.length; i++) {
          const k = d.keys[i] as string;
          const v = d.values?.[i] as string | undefined;
          const deadKey = rc.keyRef !== undefined && k !== uuid && gone(rc.keyRef, k);
          const deadValue = rc.valueRef !== undefined && v !== undefined && v !== uuid && gone(rc.valueRef, v);
          if (deadKey || deadValue) {
            if ((deadKey && k === ZERO_UUID) || (deadValue && v === ZERO_UUID)) zero = true;
          } else {
            keep.push(i);
          }
        }
        if (keep.length === d.keys.length) continue;
        const nd: Datum = {
          keys: keep.map((i) => d.keys[i]!),
          values: d.values ? keep.map((i) => d.values![i]!) : null,
        };
        const w = txn.modify(tname, current);
        w.data.set(name, nd);
        if (nd.keys.length < rc.column.type.min) {
          const inserted = !(t?.old ?? db.tables.get(tname)!.get(uuid));
          if (zero && inserted) {
            throw new OvsdbError(
              'constraint violation',
              `Weak reference column "${name}" in "${tname}" row ${uuid} (inserted within this transaction) ` +
                'contained all-zeros UUID (probably as the default value for this column) but deleting this ' +
                'value caused a constraint volation because this column is not allowed to be empty.',
            );
          }
          throw new OvsdbError(
            'constraint violation',
            `Deletion of ${d.keys.length - nd.keys.length} weak reference(s) to deleted (or never-existing) rows ` +
              `from column "${name}" in "${tname}" row ${uuid} ${inserted ? '(inserted within this transaction) ' : ''}` +
              'caused this column to become empty, but constraints on this column disallow an empty column.',
          );
        }
      }
    }
  }
}

function checkIndexes(txn: Txn): void {
  const db = txn.db;
  for (const [tname, rows] of txn.rows) {
    const info = txn.info(tname);
    if (info.indexes.length === 0) continue;
    for (let i = 0; i < info.indexes.length; i++) {
      const cols = info.indexes[i]!;
      const seen = new Map<string, Row>();
      for (const t of rows.values()) {
        if (!t.new) continue;
        const key = indexKey(t.new, cols);
        const mine = seen.get(key);
        if (mine) throw duplicateIndexError(txn, info, cols, mine, t.new);
        const owner = db.indexLookup(tname, i, key);
        if (owner !== undefined && owner !== t.uuid && !rows.has(owner)) {
          const other = db.tables.get(tname)!.get(owner);
          if (other && indexKey(other, cols) === key) throw duplicateIndexError(txn, info, cols, other, t.new);
        }
        seen.set(key, t.new);
      }
    }
  }
}

function duplicateIndexError(txn: Txn, info: TableInfo, cols: readonly string[], a: Row, b: Row): OvsdbError {
  // ovsdb-server names the row that was already there first; among rows of the
  // same kind the greater uuid goes first, so the text is stable.
  const table = info.schema;
  const age = (row: Row): number => {
    const t = txn.rows.get(table.name)?.get(row.uuid);
    if (!t || !rowChanged(t)) return 0;
    return t.old ? 1 : 2;
  };
  if (age(a) > age(b) || (age(a) === age(b) && a.uuid < b.uuid)) [a, b] = [b, a];
  const values = (row: Row) =>
    cols
      .map((c, i) => listDelimiter(i, cols.length) + datumToText(findColumn(table, c)!.type, rowDatum(row, c)))
      .join('');
  const colText =
    `column${cols.length > 1 ? 's' : ''} ` + cols.map((c, i) => `${listDelimiter(i, cols.length)}"${c}"`).join('');
  const describe = (row: Row, title: string): string => {
    const t = txn.rows.get(table.name)?.get(row.uuid);
    let what: string;
    if (!t || !rowChanged(t)) {
      what = 'existed in the database before this transaction and was not modified by the transaction.';
    } else if (!t.old) {
      what = 'was inserted by this transaction.';
    } else if (indexKey(t.old, cols) === indexKey(row, cols)) {
      what =
        "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
    } else {
      what = `had the following index values before the transaction: ${values(t.old)}.`;
    }
    return `${title} row, with UUID ${row.uuid}, ${what}`;
  };
  return new OvsdbError(
    'constraint violation',
    `Transaction causes multiple rows in "${table.name}" table to have identical values (${values(a)}) ` +
      `for index on ${colText}.  ${describe(a, 'First')}  ${describe(b, 'Second')}`,
  );
}

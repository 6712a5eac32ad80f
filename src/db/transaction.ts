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
import type { Change, Database, Row } from './database.js';
import { datumCompare, errorAt, parseCondition, rowDatum, sortedJson } from './condition.js';
import type { Clause } from './condition.js';
import { applyMutations, parseMutations } from './mutation.js';
import { emptyDatum, Txn } from './txn-overlay.js';
import type { TxnContext } from './txn-overlay.js';
import { commit } from './txn-commit.js';

export { compileWhere } from './condition.js';

export type { TxnContext } from './txn-overlay.js';

export type TxnOutcome =
  | { kind: 'done'; results: unknown[]; change: Change | null }
  | {
      kind: 'blocked';
      /** ms time at which to give up (null: wait forever); re-run the transaction after every commit until then. */
      deadline: number | null;
      /** What to reply at the deadline (or re-run with ctx.startedAt to get the same with the exact elapsed time). */
      results: unknown[];
    };

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

// IDL transactions: the caller's reads, writes, verifies and inserts against
// the replica, turned into one OVSDB "transact" in the order Open vSwitch's C
// IDL uses (verify waits, singleton-insert waits, row updates/inserts/deletes,
// the next_cfg-style increment with its select, comment, abort for dry runs),
// and the reply turned back into a TxnResult.
import type { Datum } from './datum.js';
import { datumDefault, datumEquals, datumIsDefault, datumToJson, makeDatum, newUuid } from './datum.js';
import type { ColumnSchema } from './schema.js';
import type { IdlRow, Replica } from './idl-replica.js';
import { IdlError, ReplicaRow } from './idl-replica.js';

export interface TxnRow extends IdlRow {
  set(column: string, d: Datum): void;
  readonly isNew: boolean;
}

export type TxnResult =
  | { status: 'unchanged' }
  | {
      status: 'success';
      incrementedValue?: number;
      /** Real uuid of each inserted row, keyed by both its provisional uuid and its uuid-name ("row..."). */
      insertedUuids: Map<string, string>;
    }
  | { status: 'try_again' }
  | { status: 'error'; error: string; details?: string; results: unknown[] }
  | { status: 'not_locked' };

export interface IdlTxn {
  /** A new row; `uuid` is its provisional uuid (random if omitted), usable in references before commit. */
  insert(table: string, uuid?: string): TxnRow;
  update(row: IdlRow | TxnRow): TxnRow;
  delete(row: IdlRow | TxnRow): void;
  verify(row: IdlRow, column: string): void;
  /** `force` sends the increment even when nothing else changed (OVS's force flag). */
  increment(row: IdlRow, column: string, force?: boolean): void;
  comment(text: string): void;
  setDryRun?(): void;
  commit(): Promise<TxnResult>;
}

/** What a transaction needs from its IDL. */
export interface TxnHost {
  readonly database: string;
  readonly replica: Replica;
  /** Checked before sending: not connected, not locked. Null means go ahead. */
  precheck(): TxnResult | null;
  /** Sends the operations (the host appends the lock assertion) and reports how it went. */
  transact(ops: unknown[]): Promise<TransactOutcome>;
}

export type TransactOutcome =
  | { kind: 'reply'; result: unknown }
  | { kind: 'rpc-error'; error: unknown }
  | { kind: 'lost'; result: TxnResult };

interface RowState {
  table: string;
  uuid: string;
  /** The replicated row this writes to, or null for an inserted row. */
  base: ReplicaRow | null;
  written: Map<string, Datum>;
  deleted: boolean;
  /** Columns to verify, with the value seen when verify() was called. */
  prereqs: Map<string, Datum>;
  view: TxnRowView;
}

/** The uuid-name OVS's C IDL gives an inserted row: "row" + uuid with '_' for '-'. */
export function rowName(uuid: string): string {
  return `row${uuid.replace(/-/g, '_')}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function whereUuid(uuidJson: unknown): unknown[] {
  return [['_uuid', '==', uuidJson]];
}

class TxnRowView implements TxnRow {
  constructor(
    private readonly st: RowState,
    private readonly txn: IdlTxnImpl,
  ) {}

  get uuid(): string {
    return this.st.uuid;
  }

  get table(): string {
    return this.st.table;
  }

  get isNew(): boolean {
    return this.st.base === null;
  }

  get(column: string): Datum {
    const w = this.st.written.get(column);
    if (w !== undefined) return w;
    if (this.st.base) return this.st.base.get(column);
    if (column === '_uuid') return { keys: [this.st.uuid], values: null };
    return datumDefault(this.txn.column(this.st.table, column).type);
  }

  set(column: string, d: Datum): void {
    this.txn.checkOpen();
    if (this.st.deleted) throw new IdlError(`row ${this.st.uuid} in table ${this.st.table} was deleted in this transaction`);
    const cs = this.txn.column(this.st.table, column);
    this.st.written.set(column, makeDatum(d.keys, cs.type.value ? (d.values ?? []) : undefined));
  }
}

export class IdlTxnImpl implements IdlTxn {
  private readonly rows = new Map<string, RowState>();
  private inc: { table: string; uuid: string; column: string; force: boolean } | null = null;
  private comments: string[] = [];
  private dryRun = false;
  private done = false;

  constructor(private readonly host: TxnHost) {}

  column(table: string, column: string): ColumnSchema {
    const cs = this.host.replica.tableSchema(table).columns.get(column);
    if (!cs) throw new IdlError(`table ${table} has no column ${column}`);
    return cs;
  }

  checkOpen(): void {
    if (this.done) throw new IdlError('transaction already committed');
  }

  insert(table: string, uuid?: string): TxnRow {
    this.checkOpen();
    this.host.replica.tableSchema(table);
    const u = (uuid ?? newUuid()).toLowerCase();
    if (!UUID_RE.test(u)) throw new IdlError(`"${uuid}" is not a valid UUID`);
    if (this.rows.has(u) || this.host.replica.tables.get(table)?.has(u)) {
      throw new IdlError(`uuid ${u} is already in use`);
    }
    const st: RowState = { table, uuid: u, base: null, written: new Map(), deleted: false, prereqs: new Map(), view: null! };
    st.view = new TxnRowView(st, this);
    this.rows.set(u, st);
    return st.view;
  }

  private state(row: IdlRow | TxnRow): RowState {
    const st = this.rows.get(row.uuid);
    if (st) {
      if (st.table !== row.table) throw new IdlError(`uuid ${row.uuid} is a row of ${st.table}, not ${row.table}`);
      return st;
    }
    const base = row instanceof ReplicaRow ? row : this.host.replica.tables.get(row.table)?.get(row.uuid);
    if (!base) throw new IdlError(`no row ${row.uuid} in table ${row.table}`);
    const fresh: RowState = {
      table: base.table, uuid: base.uuid, base, written: new Map(), deleted: false, prereqs: new Map(), view: null!,
    };
    fresh.view = new TxnRowView(fresh, this);
    this.rows.set(base.uuid, fresh);
    return fresh;
  }

  update(row: IdlRow | TxnRow): TxnRow {
    this.checkOpen();
    const st = this.state(row);
    if (st.deleted) throw new IdlError(`row ${st.uuid} in table ${st.table} was deleted in this transaction`);
    return st.view;
  }

  delete(row: IdlRow | TxnRow): void {
    this.checkOpen();
    const st = this.state(row);
    if (st.base === null) {
      this.rows.delete(st.uuid);
    } else {
      st.deleted = true;
      st.written.clear();
    }
  }

  verify(row: IdlRow, column: string): void {
    this.checkOpen();
    const st = this.state(row);
    if (st.base === null || st.prereqs.has(column)) return;
    st.prereqs.set(column, st.base.get(column));
  }

  increment(row: IdlRow, column: string, force = false): void {
    this.checkOpen();
    if (this.inc) throw new IdlError('a transaction can increment only one column');
    const cs = this.column(row.table, column);
    if (cs.type.key.type !== 'integer' || cs.type.value !== undefined) {
      throw new IdlError(`column ${row.table}.${column} is not an integer column`);
    }
    this.inc = { table: row.table, uuid: row.uuid, column, force };
  }

  comment(text: string): void {
    this.checkOpen();
    this.comments.push(text);
  }

  setDryRun(): void {
    this.checkOpen();
    this.dryRun = true;
  }

  async commit(): Promise<TxnResult> {
    this.checkOpen();
    this.done = true;
    const pre = this.host.precheck();
    if (pre) return pre;
    const built = this.buildOps();
    if (!built.anyUpdates) return { status: 'unchanged' };
    const outcome = await this.host.transact(built.ops);
    switch (outcome.kind) {
      case 'lost':
        return outcome.result;
      case 'rpc-error':
        // ovsdb-server says "canceled" when the database went away under a pending transaction.
        if (outcome.error === 'canceled') return { status: 'try_again' };
        return { status: 'error', ...errorText(outcome.error), results: [] };
      case 'reply':
        return this.processReply(outcome.result, built);
    }
  }

  private buildOps(): BuiltOps {
    const replica = this.host.replica;
    const ops: unknown[] = [];
    const inserts = new Map<string, number>();   // provisional uuid -> op index
    const newNames = new Map<string, string>();  // provisional uuid -> uuid-name
    for (const st of this.rows.values()) if (st.base === null) newNames.set(st.uuid, rowName(st.uuid));
    const uuidJson = (u: string): unknown => {
      const name = newNames.get(u);
      return name ? ['named-uuid', name] : ['uuid', u];
    };

    // Optimistic concurrency: the server must still hold what the caller read.
    for (const st of this.rows.values()) {
      if (st.prereqs.size === 0) continue;
      const rowJson: Record<string, unknown> = {};
      for (const [cname, d] of st.prereqs) rowJson[cname] = datumToJson(this.column(st.table, cname).type, d, uuidJson);
      ops.push({
        op: 'wait', table: st.table, timeout: 0, where: whereUuid(['uuid', st.uuid]), until: '==',
        columns: [...st.prereqs.keys()], rows: [rowJson],
      });
    }

    // Inserting the only row of a maxRows=1 table: make a racing insert a verify failure.
    for (const [tname, rows] of replica.tables) {
      if (replica.tableSchema(tname).maxRows !== 1) continue;
      let initial = 0;
      let final = 0;
      for (const u of rows.keys()) {
        initial++;
        if (!this.rows.get(u)?.deleted) final++;
      }
      for (const st of this.rows.values()) if (st.table === tname && st.base === null) final++;
      if (initial === 0 && final === 1) {
        ops.push({ op: 'wait', table: tname, where: [], timeout: 0, until: '==', rows: [] });
      }
    }

    let anyUpdates = false;
    for (const st of this.rows.values()) {
      const ts = replica.tableSchema(st.table);
      if (st.deleted) {
        // Rows of non-root tables go away by garbage collection once unreferenced.
        if (ts.isRoot) {
          ops.push({ op: 'delete', table: st.table, where: whereUuid(['uuid', st.uuid]) });
          anyUpdates = true;
        }
        continue;
      }
      const rowJson: Record<string, unknown> = {};
      if (st.base === null) {
        for (const [cname, d] of st.written) {
          const type = this.column(st.table, cname).type;
          if (!datumIsDefault(type, d)) rowJson[cname] = datumToJson(type, d, uuidJson);
        }
        inserts.set(st.uuid, ops.length);
        ops.push({ op: 'insert', table: st.table, 'uuid-name': newNames.get(st.uuid), row: rowJson });
        anyUpdates = true;
        continue;
      }
      for (const [cname, d] of st.written) {
        const type = this.column(st.table, cname).type;
        // Only columns that differ from the replica; a write-only column cannot be compared.
        if (replica.isMonitored(st.table, cname) && datumEquals(st.base.get(cname), d)) continue;
        rowJson[cname] = datumToJson(type, d, uuidJson);
      }
      if (Object.keys(rowJson).length > 0) {
        ops.push({ op: 'update', table: st.table, where: whereUuid(['uuid', st.uuid]), row: rowJson });
        anyUpdates = true;
      }
    }

    let incSelect = -1;
    if (this.inc && (anyUpdates || this.inc.force)) {
      anyUpdates = true;
      const where = whereUuid(uuidJson(this.inc.uuid));
      ops.push({ op: 'mutate', table: this.inc.table, where, mutations: [[this.inc.column, '+=', 1]] });
      incSelect = ops.length;
      ops.push({ op: 'select', table: this.inc.table, where, columns: [this.inc.column] });
    }
    if (this.comments.length > 0) ops.push({ op: 'comment', comment: this.comments.join('\n') });
    if (this.dryRun) ops.push({ op: 'abort' });
    return { ops, anyUpdates, inserts, newNames, incSelect };
  }

  private processReply(result: unknown, built: BuiltOps): TxnResult {
    if (!Array.isArray(result)) {
      return { status: 'error', error: 'reply to "transact" is not JSON array', results: [] };
    }
    let hard: { error: string; details?: string } | null = null;
    let soft = 0;
    let lock = 0;
    for (const op of result as unknown[]) {
      if (op === null) {
        soft++;   // a later op that did not run because an earlier one failed
        continue;
      }
      if (typeof op !== 'object' || Array.isArray(op)) {
        hard ??= { error: 'operation reply is not JSON null or object' };
        continue;
      }
      const err = (op as Record<string, unknown>).error;
      if (err === undefined) continue;
      const details = (op as Record<string, unknown>).details;
      if (typeof err !== 'string') {
        hard ??= { error: JSON.stringify(err) };
      } else if (err === 'timed out' || err === 'unknown database') {
        soft++;
      } else if (err === 'not owner') {
        lock++;
      } else if (err !== 'aborted') {
        hard ??= typeof details === 'string' ? { error: err, details } : { error: err };
      }
    }
    const ops = result as unknown[];
    if (!hard && !soft && !lock) {
      const insertedUuids = new Map<string, string>();
      for (const [provisional, index] of built.inserts) {
        const real = insertedUuid(ops[index]);
        if (real === null) {
          if (this.dryRun) continue;
          hard = { error: `reply to insert at index ${index} has no valid "uuid"` };
          break;
        }
        insertedUuids.set(provisional, real);
        insertedUuids.set(built.newNames.get(provisional)!, real);
      }
      let incrementedValue: number | undefined;
      if (!hard && built.incSelect >= 0 && !this.dryRun) {
        incrementedValue = selectedInteger(ops[built.incSelect], this.inc!.column) ?? undefined;
        if (incrementedValue === undefined) hard = { error: `"select" reply for ${this.inc!.column} is malformed` };
      }
      if (!hard) {
        return incrementedValue === undefined
          ? { status: 'success', insertedUuids }
          : { status: 'success', incrementedValue, insertedUuids };
      }
    }
    if (hard) return { status: 'error', ...hard, results: ops };
    if (lock) return { status: 'not_locked' };
    return { status: 'try_again' };
  }
}

interface BuiltOps {
  ops: unknown[];
  anyUpdates: boolean;
  inserts: Map<string, number>;
  newNames: Map<string, string>;
  incSelect: number;
}

function insertedUuid(op: unknown): string | null {
  const u = (op as { uuid?: unknown } | undefined)?.uuid;
  if (Array.isArray(u) && u.length === 2 && u[0] === 'uuid' && typeof u[1] === 'string') return u[1];
  return null;
}

function selectedInteger(op: unknown, column: string): number | null {
  const rows = (op as { rows?: unknown } | undefined)?.rows;
  if (!Array.isArray(rows) || rows.length !== 1) return null;
  const v = (rows[0] as Record<string, unknown> | null)?.[column];
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** A JSON-RPC error reply (a bare string or an `{error, details}` object) as TxnResult fields. */
function errorText(error: unknown): { error: string; details?: string } {
  if (typeof error === 'string') return { error };
  if (error && typeof error === 'object' && typeof (error as { error?: unknown }).error === 'string') {
    const e = error as { error: string; details?: unknown };
    return typeof e.details === 'string' ? { error: e.error, details: e.details } : { error: e.error };
  }
  return { error: JSON.stringify(error) };
}

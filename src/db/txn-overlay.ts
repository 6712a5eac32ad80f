// The working state of one OVSDB transaction: a copy-on-write overlay over the
// committed Database (rows touched so far, keyed by table and uuid) and the
// named-uuid symbol table. Nothing here changes the Database itself.
import { newUuid } from './datum.js';
import type { Datum, NamedUuids } from './datum.js';
import { datumsKey } from './database.js';
import type { Database, Row, TableInfo } from './database.js';
import { matchesAll, pinnedUuid } from './condition.js';
import type { Clause } from './condition.js';

/** A row as the transaction sees it: old = committed row (null if inserted here), new = current value (null if deleted). */
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

export interface TxnRow {
  uuid: string;
  old: Row | null;
  new: Row | null;
}

export interface NamedSymbol {
  uuid: string;
  created: boolean;
}

export function emptyDatum(): Datum {
  return { keys: [], values: null };
}

/** One transaction in progress: the overlay plus the named-uuid symbol table. */
export class Txn implements NamedUuids {
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

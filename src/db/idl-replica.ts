// The IDL's local copy of a database: the rows and columns a client asked to
// monitor, kept current by applying the server's table-updates (v1 "update",
// v2/v3 "update2"/"update3" with their per-column diffs).
import type { Datum } from './datum.js';
import { datumApplyDiff, datumDefault, datumFromJson } from './datum.js';
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from './schema.js';

/** Misuse of the IDL by its caller (unknown table or column, unmonitored column, finished txn...). */
export class IdlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdlError';
  }
}

export interface IdlRow {
  readonly uuid: string;
  readonly table: string;
  /** The column's value; throws IdlError for a column that is not replicated. */
  get(column: string): Datum;
}

/** Which tables and columns to replicate: `'all'` or a list of column names per table. */
export type TableSelection = Record<string, string[] | 'all'>;

export class ReplicaRow implements IdlRow {
  constructor(
    readonly uuid: string,
    readonly table: string,
    /** Every monitored column is present; unmonitored ones are absent. */
    readonly data: Map<string, Datum>,
  ) {}

  get(column: string): Datum {
    const d = this.data.get(column);
    if (d !== undefined) return d;
    if (column === '_uuid') return { keys: [this.uuid], values: null };
    throw new IdlError(`column ${this.table}.${column} is not replicated by this IDL`);
  }
}

/** A diff may hold more (or fewer) atoms than the column allows, so parse it without size limits. */
function diffType(t: ColumnType): ColumnType {
  return { ...t, min: 0, max: Infinity };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Replica {
  readonly tables = new Map<string, Map<string, ReplicaRow>>();
  /** Monitored columns of each replicated table. */
  readonly columns = new Map<string, Map<string, ColumnSchema>>();

  constructor(
    readonly schema: DatabaseSchema,
    selection: TableSelection | undefined,
    private readonly log: (msg: string) => void,
  ) {
    const wanted: TableSelection = selection ?? Object.fromEntries([...schema.tables.keys()].map((t) => [t, 'all']));
    for (const [tname, cols] of Object.entries(wanted)) {
      const ts = schema.tables.get(tname);
      if (!ts) throw new IdlError(`database ${schema.name} has no table ${tname}`);
      const map = new Map<string, ColumnSchema>();
      for (const cname of cols === 'all' ? [...ts.columns.keys()] : cols) {
        const cs = ts.columns.get(cname);
        if (!cs) throw new IdlError(`table ${tname} has no column ${cname}`);
        map.set(cname, cs);
      }
      this.columns.set(tname, map);
      this.tables.set(tname, new Map());
    }
  }

  tableSchema(name: string): TableSchema {
    const ts = this.schema.tables.get(name);
    if (!ts) throw new IdlError(`database ${this.schema.name} has no table ${name}`);
    return ts;
  }

  isMonitored(table: string, column: string): boolean {
    return this.columns.get(table)?.has(column) ?? false;
  }

  clear(): void {
    for (const rows of this.tables.values()) rows.clear();
  }

  /** The `<monitor-requests>` object: one request per table, naming its columns. */
  monitorRequests(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {};
    for (const [tname, cols] of this.columns) out[tname] = [{ columns: [...cols.keys()] }];
    return out;
  }

  /** Applies v2 `<table-updates2>` (initial/insert/modify/delete). Returns true if anything changed. */
  applyUpdates2(json: unknown): boolean {
    if (!isObject(json)) {
      this.log(`table-updates2 is not a JSON object: ${JSON.stringify(json)}`);
      return false;
    }
    let changed = false;
    for (const [tname, rowsJson] of Object.entries(json)) {
      const rows = this.tables.get(tname);
      const cols = this.columns.get(tname);
      if (!rows || !cols || !isObject(rowsJson)) continue;
      for (const [uuid, u] of Object.entries(rowsJson)) {
        if (!isObject(u)) continue;
        if ('delete' in u) {
          if (rows.delete(uuid)) changed = true;
          else this.log(`cannot delete missing row ${uuid} from table ${tname}`);
        } else if (isObject(u.initial) || isObject(u.insert)) {
          rows.set(uuid, this.newRow(tname, uuid, cols, (u.initial ?? u.insert) as Record<string, unknown>));
          changed = true;
        } else if (isObject(u.modify)) {
          const row = rows.get(uuid);
          if (!row) {
            this.log(`cannot modify missing row ${uuid} in table ${tname}`);
            continue;
          }
          for (const [cname, dj] of Object.entries(u.modify)) {
            const cs = cols.get(cname);
            if (!cs) continue;
            const diff = this.parse(tname, cs, dj, diffType(cs.type));
            if (diff) row.data.set(cname, datumApplyDiff(cs.type, row.get(cname), diff));
          }
          changed = true;
        }
      }
    }
    return changed;
  }

  /** Applies v1 `<table-updates>` ({old, new} per row). Returns true if anything changed. */
  applyUpdates1(json: unknown): boolean {
    if (!isObject(json)) {
      this.log(`table-updates is not a JSON object: ${JSON.stringify(json)}`);
      return false;
    }
    let changed = false;
    for (const [tname, rowsJson] of Object.entries(json)) {
      const rows = this.tables.get(tname);
      const cols = this.columns.get(tname);
      if (!rows || !cols || !isObject(rowsJson)) continue;
      for (const [uuid, u] of Object.entries(rowsJson)) {
        if (!isObject(u)) continue;
        if (isObject(u.new)) {
          const row = rows.get(uuid);
          if (row) {
            for (const [cname, dj] of Object.entries(u.new)) {
              const cs = cols.get(cname);
              const d = cs && this.parse(tname, cs, dj, cs.type);
              if (cs && d) row.data.set(cname, d);
            }
          } else {
            rows.set(uuid, this.newRow(tname, uuid, cols, u.new));
          }
          changed = true;
        } else if (rows.delete(uuid)) {
          changed = true;
        }
      }
    }
    return changed;
  }

  private newRow(table: string, uuid: string, cols: Map<string, ColumnSchema>, json: Record<string, unknown>): ReplicaRow {
    const data = new Map<string, Datum>();
    for (const [cname, cs] of cols) {
      const dj = json[cname];
      const d = dj === undefined ? undefined : this.parse(table, cs, dj, cs.type);
      data.set(cname, d ?? datumDefault(cs.type));
    }
    return new ReplicaRow(uuid, table, data);
  }

  /** A bad value from the server is logged and skipped rather than tearing down the session. */
  private parse(table: string, cs: ColumnSchema, json: unknown, type: ColumnType): Datum | undefined {
    try {
      return datumFromJson(type, json);
    } catch (e) {
      this.log(`bad value for ${table}.${cs.name} from server: ${(e as Error).message}`);
      return undefined;
    }
  }
}

// OVSDB monitors: the "monitor" (v1 update), "monitor_cond" (v2 update2) and
// "monitor_cond_since" (v3 update3) subscriptions of one session, and the
// table-updates they produce from a committed change.
//
// Work is split so that a transaction costs little per session: a CommitView
// wraps one committed Change and lazily caches, per row, which columns changed
// and the JSON of each value; Monitors only pick and arrange what they asked for.
// Unconditional monitors with the same columns share one formatted result.
import type { Change, Database, Row, RowChange } from './database.js';
import type { ColumnType, TableSchema } from './schema.js';
import type { Datum } from './datum.js';
import { datumDefault, datumDiff, datumEquals, datumToJson } from './datum.js';
import { OvsdbError, syntaxError } from './errors.js';
import { compileWhere } from './condition.js';

export type MonitorVersion = 1 | 2 | 3;

const SEL_INITIAL = 1;
const SEL_INSERT = 2;
const SEL_DELETE = 4;
const SEL_MODIFY = 8;
const SEL_ALL = SEL_INITIAL | SEL_INSERT | SEL_DELETE | SEL_MODIFY;

type TableUpdates = Record<string, Record<string, unknown>>;

interface MonitoredColumn {
  name: string;
  type: ColumnType;
  select: number;
  /** Whether a value is the column's default (omitted from update2 initial/insert rows). */
  isDefault: (d: Datum) => boolean;
}

function defaultTest(name: string, type: ColumnType): (d: Datum) => boolean {
  if (name === '_uuid' || name === '_version') return () => false;
  if (type.min === 0) return (d) => d.keys.length === 0;
  const def = datumDefault(type);
  return (d) => datumEquals(d, def);
}

/** One table as one monitor watches it. */
interface TableMonitor {
  schema: TableSchema;
  columns: MonitoredColumn[];
  /** Union of the columns' select flags: which kinds of row change are reported at all. */
  select: number;
  /** The `where` as given (for comparing conditions), undefined when absent. */
  whereJson: unknown;
  /** null when every row matches. */
  cond: ((row: Row) => boolean) | null;
  /** Identifies monitors that format a change identically (unconditional ones only). */
  shareKey: string | null;
}

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

function columnDatum(row: Row, name: string): Datum {
  if (name === '_uuid') return { keys: [row.uuid], values: null };
  if (name === '_version') return { keys: [row.version], values: null };
  const d = row.data.get(name);
  if (d === undefined) throw new OvsdbError('internal error', `row ${row.uuid} lacks column ${name}`);
  return d;
}

/** Per-row caches over one committed change, shared by every monitor of the database. */
class RowView {
  private changed: Map<string, boolean> | null = null;
  private newJson: Map<string, unknown> | null = null;
  private oldJson: Map<string, unknown> | null = null;
  private diffJson: Map<string, unknown> | null = null;

  constructor(
    readonly uuid: string,
    readonly old: Row | null,
    readonly new_: Row | null,
  ) {}

  isChanged(col: MonitoredColumn): boolean {
    this.changed ??= new Map();
    let c = this.changed.get(col.name);
    if (c === undefined) {
      c = !datumEquals(columnDatum(this.old!, col.name), columnDatum(this.new_!, col.name));
      this.changed.set(col.name, c);
    }
    return c;
  }

  newValue(col: MonitoredColumn): unknown {
    this.newJson ??= new Map();
    let j = this.newJson.get(col.name);
    if (j === undefined) {
      j = datumToJson(col.type, columnDatum(this.new_!, col.name));
      this.newJson.set(col.name, j);
    }
    return j;
  }

  oldValue(col: MonitoredColumn): unknown {
    this.oldJson ??= new Map();
    let j = this.oldJson.get(col.name);
    if (j === undefined) {
      j = datumToJson(col.type, columnDatum(this.old!, col.name));
      this.oldJson.set(col.name, j);
    }
    return j;
  }

  diffValue(col: MonitoredColumn): unknown {
    this.diffJson ??= new Map();
    let j = this.diffJson.get(col.name);
    if (j === undefined) {
      const d = datumDiff(col.type, columnDatum(this.old!, col.name), columnDatum(this.new_!, col.name));
      j = datumToJson(col.type, d);
      this.diffJson.set(col.name, j);
    }
    return j;
  }
}

/** A committed change as monitors see it: computed once per transaction. */
export class CommitView {
  private readonly tables = new Map<string, RowView[]>();
  /** Serialized per-table updates of unconditional monitors, by share key (null = nothing to send). */
  private readonly shared = new Map<string, string | null>();

  constructor(readonly change: Change) {
    for (const [name, rows] of change.tables) {
      const list: RowView[] = [];
      for (const [uuid, rc] of rows as Map<string, RowChange>) list.push(new RowView(uuid, rc.old, rc.new));
      if (list.length > 0) this.tables.set(name, list);
    }
  }

  rows(table: string): RowView[] | undefined {
    return this.tables.get(table);
  }

  sharedText(key: string): string | null | undefined {
    return this.shared.get(key);
  }

  setSharedText(key: string, v: string | null): void {
    this.shared.set(key, v);
  }
}

// ----- parsing of monitor requests, with OVS's ovsdb_parser messages -----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseFail(json: unknown, what: string, msg: string): OvsdbError {
  return syntaxError(json, `Parsing ${what} failed: ${msg}`);
}

/** Checks an object's members the way ovsdb_parser does; returns the members. */
function parseMembers(
  json: unknown,
  what: string,
  spec: Record<string, 'array' | 'object' | 'boolean'>,
): Record<string, unknown> {
  if (!isObject(json)) throw parseFail(json, what, 'Object expected.');
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const v = json[name];
    if (v === undefined) continue;
    const ok = kind === 'array' ? Array.isArray(v) : kind === 'object' ? isObject(v) : typeof v === 'boolean';
    if (!ok) throw parseFail(json, what, `Type mismatch for member '${name}'.`);
    out[name] = v;
  }
  const unused = Object.keys(json).filter((k) => !(k in spec));
  if (unused.length === 1) throw parseFail(json, what, `Member '${unused[0]}' is present but not allowed here.`);
  if (unused.length > 1) {
    const n = unused.length - 1;
    throw parseFail(json, what, `Member '${unused[0]}' and ${n} other member${n > 1 ? 's' : ''} are present but not allowed here.`);
  }
  return out;
}

function parseSelect(json: unknown, table: string): number {
  if (json === undefined) return SEL_ALL;
  const m = parseMembers(json, `table ${table} select`, {
    initial: 'boolean',
    insert: 'boolean',
    delete: 'boolean',
    modify: 'boolean',
  });
  let sel = 0;
  if (m.initial !== false) sel |= SEL_INITIAL;
  if (m.insert !== false) sel |= SEL_INSERT;
  if (m.delete !== false) sel |= SEL_DELETE;
  if (m.modify !== false) sel |= SEL_MODIFY;
  return sel;
}

function addRequest(tm: TableMonitor, req: unknown, conditional: boolean): void {
  const ts = tm.schema;
  const m = parseMembers(
    req,
    `table ${ts.name}`,
    conditional ? { where: 'array', columns: 'array', select: 'object' } : { columns: 'array', select: 'object' },
  );
  const select = parseSelect(m.select, ts.name);
  tm.select |= select;
  const add = (name: string, type: ColumnType, json: unknown): void => {
    if (tm.columns.some((c) => c.name === name)) throw syntaxError(json, `column ${name} mentioned more than once`);
    tm.columns.push({ name, type, select, isDefault: defaultTest(name, type) });
  };
  if (m.columns !== undefined) {
    const cols = m.columns as unknown[];
    for (const c of cols) {
      if (typeof c !== 'string') throw syntaxError(cols, 'array of column names expected');
      if (c === '_uuid' || c === '_version') add(c, UUID_TYPE, cols);
      else {
        const col = ts.columns.get(c);
        if (!col) throw syntaxError(cols, `${c} is not a valid column name`);
        add(c, col.type, cols);
      }
    }
  } else {
    // Absent "columns" means every column, including _version, as ovsdb-server does.
    for (const col of ts.columns.values()) add(col.name, col.type, undefined);
    add('_version', UUID_TYPE, undefined);
  }
  if (conditional && tm.whereJson === undefined && m.where !== undefined) {
    tm.whereJson = m.where;
    tm.cond = compileCondition(ts, m.where);
  }
}

function compileCondition(ts: TableSchema, where: unknown): ((row: Row) => boolean) | null {
  // Clauses are alternatives (a row matches if any does), so one `true` selects everything.
  if (Array.isArray(where) && (where.length === 0 || where.some((c) => c === true))) return null;
  return compileWhere(ts, where);
}

function shareKeyOf(version: MonitorVersion, tm: TableMonitor): string | null {
  if (tm.cond !== null) return null;
  const cols = tm.columns.map((c) => `${c.name}:${c.select}`).join(',');
  return `${version === 1 ? 1 : 2}|${tm.schema.name}|${tm.select}|${cols}`;
}

/** One monitor of one session. */
export class Monitor {
  private constructor(
    public id: unknown,
    readonly version: MonitorVersion,
    readonly db: Database,
    private readonly tables: Map<string, TableMonitor>,
  ) {}

  /** Parses `{table: request | [request...]}`; throws OvsdbError in ovsdb-server's shapes. */
  static create(db: Database, id: unknown, requests: unknown, version: MonitorVersion): Monitor {
    if (!isObject(requests)) throw syntaxError(requests, 'monitor-requests must be object');
    const tables = new Map<string, TableMonitor>();
    for (const [name, value] of Object.entries(requests)) {
      const schema = db.schema.tables.get(name);
      if (!schema) throw new OvsdbError('syntax error', `no table named ${name}`);
      const tm: TableMonitor = { schema, columns: [], select: 0, whereJson: undefined, cond: null, shareKey: null };
      const reqs = Array.isArray(value) ? value : [value];
      for (const r of reqs) addRequest(tm, r, version !== 1);
      tm.shareKey = shareKeyOf(version, tm);
      tables.set(name, tm);
    }
    return new Monitor(id, version, db, tables);
  }

  get updateMethod(): string {
    return this.version === 1 ? 'update' : this.version === 2 ? 'update2' : 'update3';
  }

  /**
   * The table-updates for the reply to the monitor request (every current row),
   * as JSON text. `cache` shares the text of identical unconditional monitors
   * until the database changes.
   */
  initialText(cache?: Map<string, string | null>): string {
    const parts: string[] = [];
    for (const [name, tm] of this.tables) {
      if (!(tm.select & SEL_INITIAL)) continue;
      let t: string | null | undefined = tm.shareKey !== null ? cache?.get(tm.shareKey) : undefined;
      if (t === undefined) {
        const obj = this.initialTable(tm);
        t = obj === null ? null : JSON.stringify(obj);
        if (tm.shareKey !== null) cache?.set(tm.shareKey, t);
      }
      if (t !== null) parts.push(`${JSON.stringify(name)}:${t}`);
    }
    return `{${parts.join(',')}}`;
  }

  private initialTable(tm: TableMonitor): Record<string, unknown> | null {
    const rows = this.db.tables.get(tm.schema.name);
    if (!rows) return null;
    let out: Record<string, unknown> | null = null;
    for (const row of rows.values()) {
      if (tm.cond !== null && !tm.cond(row)) continue;
      out ??= {};
      out[row.uuid] = this.formatWhole(tm, row, SEL_INITIAL);
    }
    return out;
  }

  /** A whole row as initial/insert: v1 `{"new":…}` with every column, v2 without default values. */
  private formatWhole(tm: TableMonitor, row: Row, type: number): unknown {
    const values: Record<string, unknown> = {};
    const v1 = this.version === 1;
    for (const c of tm.columns) {
      if (!(c.select & type)) continue;
      const d = columnDatum(row, c.name);
      if (!v1 && c.isDefault(d)) continue;
      values[c.name] = datumToJson(c.type, d);
    }
    if (v1) return { new: values };
    return type === SEL_INITIAL ? { initial: values } : { insert: values };
  }

  /** The table-updates (JSON text) a committed change produces for this monitor, or null when nothing is visible. */
  updateText(view: CommitView): string | null {
    let parts: string[] | null = null;
    for (const [name, tm] of this.tables) {
      const rows = view.rows(name);
      if (!rows) continue;
      let t: string | null | undefined;
      if (tm.shareKey !== null) t = view.sharedText(tm.shareKey);
      if (t === undefined) {
        const obj = this.updateTable(tm, rows);
        t = obj === null ? null : JSON.stringify(obj);
        if (tm.shareKey !== null) view.setSharedText(tm.shareKey, t);
      }
      if (t !== null) (parts ??= []).push(`${JSON.stringify(name)}:${t}`);
    }
    return parts === null ? null : `{${parts.join(',')}}`;
  }

  private updateTable(tm: TableMonitor, rows: RowView[]): Record<string, unknown> | null {
    let out: Record<string, unknown> | null = null;
    for (const r of rows) {
      const u = this.rowUpdate(tm, r);
      if (u !== null) {
        out ??= {};
        out[r.uuid] = u;
      }
    }
    return out;
  }

  private rowUpdate(tm: TableMonitor, r: RowView): unknown {
    let type = r.old === null ? SEL_INSERT : r.new_ === null ? SEL_DELETE : SEL_MODIFY;
    if (tm.cond !== null) {
      // Rows moving into the condition are inserts for this monitor, rows moving out deletes.
      const was = r.old !== null && tm.cond(r.old);
      const is = r.new_ !== null && tm.cond(r.new_);
      if (!was && !is) return null;
      if (type === SEL_MODIFY) type = !was ? SEL_INSERT : !is ? SEL_DELETE : SEL_MODIFY;
    }
    if (!(tm.select & type)) return null;
    if (type === SEL_MODIFY) {
      let any = false;
      for (const c of tm.columns) {
        if (r.isChanged(c)) {
          any = true;
          break;
        }
      }
      if (!any) return null;
    }
    if (this.version === 1) return this.rowUpdateV1(tm, r, type);
    if (type === SEL_DELETE) return { delete: null };
    if (type === SEL_INSERT) return this.formatWhole(tm, r.new_!, SEL_INSERT);
    const diff: Record<string, unknown> = {};
    for (const c of tm.columns) {
      if (c.select & SEL_MODIFY && r.isChanged(c)) diff[c.name] = r.diffValue(c);
    }
    return { modify: diff };
  }

  private rowUpdateV1(tm: TableMonitor, r: RowView, type: number): unknown {
    const out: Record<string, unknown> = {};
    let oldV: Record<string, unknown> | undefined;
    let newV: Record<string, unknown> | undefined;
    if (type !== SEL_INSERT) out.old = oldV = {};
    if (type !== SEL_DELETE) out.new = newV = {};
    for (const c of tm.columns) {
      if (!(c.select & type)) continue;
      if (type === SEL_DELETE || (type === SEL_MODIFY && r.isChanged(c))) oldV![c.name] = r.oldValue(c);
      if (type !== SEL_DELETE) newV![c.name] = r.newValue(c);
    }
    return out;
  }

  /**
   * monitor_cond_change: replaces the `where` of some tables. Validates everything
   * before changing anything, then returns the update2 that moves the client from
   * the old row set to the new one (null if nothing moved).
   */
  changeConditions(requests: unknown): TableUpdates | null {
    if (!isObject(requests)) throw new OvsdbError('syntax error', 'monitor-cond-change-requests must be object');
    const planned: Array<[TableMonitor, unknown, ((row: Row) => boolean) | null]> = [];
    for (const [name, value] of Object.entries(requests)) {
      if (!this.db.schema.tables.has(name)) throw new OvsdbError('syntax error', `no table named ${name}`);
      const tm = this.tables.get(name);
      if (!tm) throw new OvsdbError('syntax error', `no table named ${name} in monitor session`);
      if (!Array.isArray(value)) throw new OvsdbError('syntax error', `table ${name} no monitor-cond-change JSON array`);
      for (const req of value) {
        const m = parseMembers(req, `table ${name}`, { columns: 'array', where: 'array' });
        if (m.columns !== undefined) throw syntaxError(req, 'changing columns is unsupported');
        const where = m.where ?? [];
        planned.push([tm, where, compileCondition(tm.schema, where)]);
      }
    }
    // A plain "monitor" has no conditions; ovsdb-server accepts the request and ignores it.
    if (this.version === 1) return null;
    let out: TableUpdates | null = null;
    for (const [tm, whereJson, cond] of planned) {
      const before = tm.cond;
      const same = JSON.stringify(tm.whereJson ?? []) === JSON.stringify(whereJson);
      tm.whereJson = whereJson;
      tm.cond = cond;
      tm.shareKey = shareKeyOf(this.version, tm);
      if (same) continue;
      const rows = this.db.tables.get(tm.schema.name);
      if (!rows) continue;
      for (const row of rows.values()) {
        const was = before === null || before(row);
        const is = cond === null || cond(row);
        let u: unknown = null;
        if (!was && is && tm.select & SEL_INSERT) u = this.formatWhole(tm, row, SEL_INSERT);
        else if (was && !is && tm.select & SEL_DELETE) u = { delete: null };
        if (u === null) continue;
        out ??= {};
        (out[tm.schema.name] ??= {})[row.uuid] = u;
      }
    }
    return out;
  }
}

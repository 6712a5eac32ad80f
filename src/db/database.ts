// The in-memory database: committed rows per table, plus the derived indexes a
// transaction needs to stay proportional to what it touches.
//
// Design: every committed Row is an immutable value (a transaction copies a row
// before changing it), so monitors and the change history may keep old rows.
// Each table's row map is a TableRows, a Map that updates three derived
// structures whenever a row is set or deleted, whoever does it (a commit, or
// storage replaying its log):
//   - strong reference counts per target row (self references excluded, as OVS
//     does), so commit-time referential integrity and garbage collection look
//     only at rows whose counts the transaction changes;
//   - the reverse index of weak references, so deleting a row finds the rows
//     whose weak columns must drop it without scanning their tables;
//   - one hash index per schema `indexes` entry, so uniqueness checks cost one
//     lookup per changed row.
import { atomCompare } from './datum.js';
import type { Atom, Datum } from './datum.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from './schema.js';

/** A row: every schema column is present in `data`. Never mutate a committed row. */
export interface Row {
  uuid: string;
  version: string;
  data: Map<string, Datum>;
}

/** null old = insert, null new = delete, both = modify. */
export interface RowChange {
  old: Row | null;
  new: Row | null;
}

/** What one committed transaction did, after garbage collection and weak-reference cleanup. */
export interface Change {
  tables: Map<string, Map<string, RowChange>>;
  comment?: string;
  durable: boolean;
}

/** A reference-holding column, with the tables its keys and values point to. */
export interface RefColumn {
  column: ColumnSchema;
  keyRef?: string;
  valueRef?: string;
}

/** Per-table facts precomputed from the schema. */
export interface TableInfo {
  schema: TableSchema;
  strong: RefColumn[];
  weak: RefColumn[];
  /** Column names of each unique index, in schema order. */
  indexes: string[][];
}

function refColumns(table: TableSchema, kind: 'strong' | 'weak'): RefColumn[] {
  const out: RefColumn[] = [];
  for (const column of table.columns.values()) {
    const { key, value } = column.type;
    const keyRef = key.refTable !== undefined && (key.refType ?? 'strong') === kind ? key.refTable : undefined;
    const valueRef =
      value?.refTable !== undefined && (value.refType ?? 'strong') === kind ? value.refTable : undefined;
    if (keyRef !== undefined || valueRef !== undefined) out.push({ column, keyRef, valueRef });
  }
  return out;
}

/** Calls fn(targetTable, targetUuid) for every reference atom of `row` in `cols`, skipping self references. */
export function forEachRef(
  cols: readonly RefColumn[],
  row: Row,
  fn: (table: string, uuid: string) => void,
): void {
  for (const rc of cols) {
    const d = row.data.get(rc.column.name);
    if (d === undefined) continue;
    if (rc.keyRef !== undefined) {
      for (const k of d.keys) if (k !== row.uuid) fn(rc.keyRef, k as string);
    }
    if (rc.valueRef !== undefined && d.values) {
      for (const v of d.values) if (v !== row.uuid) fn(rc.valueRef, v as string);
    }
  }
}

/**
 * Calls fn(table, uuid, -1 | +1, column) for each reference atom that one
 * column loses or gains between two versions of a row (self references
 * skipped). For maps a pair whose value changed counts as removed and added,
 * as in OVS. Both datums are sorted, so this is one linear merge.
 */
export function diffRefColumn(
  rc: RefColumn,
  od: Datum | undefined,
  nd: Datum | undefined,
  self: string,
  fn: (table: string, uuid: string, delta: number, column: ColumnSchema) => void,
): void {
  if (od === nd) return;
  const emit = (d: Datum, i: number, delta: number) => {
    const k = d.keys[i]!;
    if (rc.keyRef !== undefined && k !== self) fn(rc.keyRef, k as string, delta, rc.column);
    const v = d.values?.[i];
    if (rc.valueRef !== undefined && v !== undefined && v !== self) fn(rc.valueRef, v as string, delta, rc.column);
  };
  const ok = od?.keys ?? [];
  const nk = nd?.keys ?? [];
  // uuid keys are lowercase ASCII, so plain string order is the datum order (fast path).
  const cmp = rc.column.type.key.type === 'uuid' ? (a: Atom, b: Atom) => (a < b ? -1 : 1) : atomCompare;
  let i = 0;
  let j = 0;
  while (i < ok.length || j < nk.length) {
    let c: number;
    if (i >= ok.length) c = 1;
    else if (j >= nk.length) c = -1;
    else c = ok[i] === nk[j] ? 0 : cmp(ok[i]!, nk[j]!);
    if (c < 0) emit(od!, i++, -1);
    else if (c > 0) emit(nd!, j++, 1);
    else {
      if (od!.values && od!.values[i] !== nd!.values![j]) {
        emit(od!, i, -1);
        emit(nd!, j, 1);
      }
      i++;
      j++;
    }
  }
}

/** The canonical hash key of a list of datums (one per index column). */
export function datumsKey(datums: readonly (Datum | undefined)[]): string {
  let s = '';
  for (const d of datums) {
    s += d === undefined ? '[]' : JSON.stringify(d.keys);
    if (d?.values) s += JSON.stringify(d.values);
    s += '\u0001';
  }
  return s;
}

/** The canonical hash key of a row's values in the given columns. */
export function indexKey(row: Row, columns: readonly string[]): string {
  return datumsKey(columns.map((c) => row.data.get(c)));
}

/** A table's committed rows; set/delete keep the database's derived indexes in step. */
export class TableRows extends Map<string, Row> {
  constructor(
    private readonly db: Database,
    private readonly info: TableInfo,
  ) {
    super();
  }

  override set(uuid: string, row: Row): this {
    const old = super.get(uuid);
    super.set(uuid, row);
    this.db.replaceRow(this.info, old ?? null, row);
    return this;
  }

  override delete(uuid: string): boolean {
    const old = super.get(uuid);
    if (old === undefined) return false;
    super.delete(uuid);
    this.db.replaceRow(this.info, old, null);
    return true;
  }

  override clear(): void {
    for (const uuid of [...this.keys()]) this.delete(uuid);
  }
}

export class Database {
  readonly schema: DatabaseSchema;
  readonly tables: Map<string, Map<string, Row>>;
  readonly info: Map<string, TableInfo>;
  /** target table -> target uuid -> number of strong reference atoms pointing at it. */
  private readonly strongCounts = new Map<string, Map<string, number>>();
  /** target table -> target uuid -> "srcTable srcUuid" -> number of weak reference atoms. */
  private readonly weakSources = new Map<string, Map<string, Map<string, number>>>();
  /** table -> one map per unique index: index key -> row uuid. */
  private readonly uniqueIndexes = new Map<string, Map<string, string>[]>();

  constructor(schema: DatabaseSchema) {
    this.schema = schema;
    this.tables = new Map();
    this.info = new Map();
    for (const t of schema.tables.values()) {
      const info: TableInfo = {
        schema: t,
        strong: refColumns(t, 'strong'),
        weak: refColumns(t, 'weak'),
        indexes: t.indexes.map((cols) => [...cols]),
      };
      this.info.set(t.name, info);
      this.strongCounts.set(t.name, new Map());
      this.weakSources.set(t.name, new Map());
      this.uniqueIndexes.set(t.name, info.indexes.map(() => new Map<string, string>()));
      this.tables.set(t.name, new TableRows(this, info));
    }
  }

  /** Number of strong references (other than self references) to a committed row. */
  refCount(table: string, uuid: string): number {
    return this.strongCounts.get(table)?.get(uuid) ?? 0;
  }

  /** The committed rows ("table uuid" strings) that hold a weak reference to the given row. */
  weakReferrers(table: string, uuid: string): Iterable<string> {
    return this.weakSources.get(table)?.get(uuid)?.keys() ?? [];
  }

  /** The uuid of the committed row whose values in index number `i` of `table` have this key. */
  indexLookup(table: string, i: number, key: string): string | undefined {
    return this.uniqueIndexes.get(table)?.[i]?.get(key);
  }

  /** Applies a committed change to the tables (used by transactions and by storage replay). */
  applyChange(change: Change): void {
    // Deletions first, so that a row renamed into a name freed by this change indexes cleanly.
    for (const [name, rows] of change.tables) {
      const t = this.tables.get(name);
      if (!t) continue;
      for (const [uuid, rc] of rows) if (rc.new === null) t.delete(uuid);
    }
    for (const [name, rows] of change.tables) {
      const t = this.tables.get(name);
      if (!t) continue;
      for (const [uuid, rc] of rows) if (rc.new !== null) t.set(uuid, rc.new);
    }
  }

  /** @internal Called by TableRows when a row is added (old null), replaced, or removed (row null). */
  replaceRow(info: TableInfo, old: Row | null, row: Row | null): void {
    const self = (row ?? old)!.uuid;
    for (const rc of info.strong) {
      const name = rc.column.name;
      diffRefColumn(rc, old?.data.get(name), row?.data.get(name), self, (table, uuid, delta) => {
        const m = this.strongCounts.get(table);
        if (!m) return;
        const n = (m.get(uuid) ?? 0) + delta;
        if (n === 0) m.delete(uuid);
        else m.set(uuid, n);
      });
    }
    if (info.weak.length > 0) {
      const src = `${info.schema.name} ${self}`;
      for (const rc of info.weak) {
        const name = rc.column.name;
        diffRefColumn(rc, old?.data.get(name), row?.data.get(name), self, (table, uuid, delta) =>
          this.adjustWeak(table, uuid, src, delta),
        );
      }
    }
    const idx = this.uniqueIndexes.get(info.schema.name)!;
    for (let i = 0; i < info.indexes.length; i++) {
      const cols = info.indexes[i]!;
      const oldKey = old ? indexKey(old, cols) : undefined;
      const newKey = row ? indexKey(row, cols) : undefined;
      if (oldKey === newKey) continue;
      // Another row may already own the old key (a swap applied in either order).
      if (oldKey !== undefined && idx[i]!.get(oldKey) === self) idx[i]!.delete(oldKey);
      if (newKey !== undefined) idx[i]!.set(newKey, self);
    }
  }

  private adjustWeak(table: string, uuid: string, src: string, delta: number): void {
    const m = this.weakSources.get(table);
    if (!m) return;
    let srcs = m.get(uuid);
    if (!srcs) {
      if (delta < 0) return;
      srcs = new Map();
      m.set(uuid, srcs);
    }
    const n = (srcs.get(src) ?? 0) + delta;
    if (n <= 0) {
      srcs.delete(src);
      if (srcs.size === 0) m.delete(uuid);
    } else {
      srcs.set(src, n);
    }
  }
}

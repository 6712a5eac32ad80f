// Commit-time checks of an OVSDB transaction, in ovsdb-server's order:
// drop rows that did not really change, referential integrity, garbage
// collection of unreferenced non-root rows, maxRows, weak references, unique
// indexes; then the overlay becomes a Change applied to the Database.
import { OvsdbError } from './errors.js';
import { datumEquals, newUuid, ZERO_UUID } from './datum.js';
import type { Datum } from './datum.js';
import { findColumn } from './schema.js';
import type { ColumnSchema } from './schema.js';
import { diffRefColumn, forEachRef, indexKey } from './database.js';
import type { Change, Row, RowChange, TableInfo } from './database.js';
import { datumToText, listDelimiter, rowDatum } from './condition.js';
import { emptyDatum, type Txn, type TxnRow } from './txn-overlay.js';

export function rowChanged(t: TxnRow): boolean {
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

export function commit(txn: Txn): Change | null {
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

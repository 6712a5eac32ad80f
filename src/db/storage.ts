// Standalone OVSDB database files (ovsdb(5), magic "JSON"): record 0 is the
// schema, every later record one committed transaction. The format, the lock
// file and the compaction policy follow ovsdb-server's, so the real tools
// (ovsdb-tool, ovsdb-server) read what we write and we read what they write.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeAddon } from '../lib/index.js';
import { OvsdbError } from './errors.js';
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from './schema.js';
import { parseSchema } from './schema.js';
import type { Datum } from './datum.js';
import {
  datumApplyDiff, datumDefault, datumDiff, datumEquals, datumFromJson, datumIsDefault, datumToJson, newUuid,
} from './datum.js';
import type { Change, Row } from './database.js';
import { Database } from './database.js';
import { composeRecord, frameRecord, scanLog } from './storage-log.js';

export { composeRecord, frameRecord, scanLog } from './storage-log.js';

/** Comment of the snapshot record written by online compaction (ovsdb-server writes the same). */
export const COMPACT_COMMENT = 'compacting database online';

/** ovsdb-server's snapshot policy (ovsdb/storage.c, ovsdb/log.c in OVS 3.1). */
export const COMPACTION = {
  /** No compaction sooner than this after open or the previous compaction... */
  minIntervalMs: 10 * 60 * 1000,
  /** ...plus a random extra delay of up to this much. */
  jitterMs: 10 * 60 * 1000,
  /** After a failed compaction, retry after a tenth of the normal delays. */
  retryDivisor: 10,
  /** Once this long has passed, compact if anything at all was logged. */
  maxIntervalMs: 24 * 60 * 60 * 1000,
  /** Before that, compact only with at least this many records in the log... */
  minRecords: 100,
  /** ...and a file larger than this, at least twice its size after the last compaction. */
  minBytes: 10 * 1024 * 1024,
} as const;

export interface DbFileOptions {
  /** Monotonic-enough clock in ms for the compaction schedule (default Date.now). */
  now?: () => number;
  /** Uniform [0,1) source for the compaction jitter (default Math.random). */
  random?: () => number;
  /** Wall clock in ms for `_date` (default Date.now). */
  wallClock?: () => number;
}

/** Lock files this process holds: fcntl locks never conflict within one process. */
const heldLocks = new Set<string>();

/** `dir/.name.~lock~` next to the file a symlink points to, as OVS's lockfile_name(). */
export function lockFileName(dbPath: string): string {
  const real = realTarget(dbPath);
  return path.join(path.dirname(real), `.${path.basename(real)}.~lock~`);
}

function realTarget(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function ioError(what: string, e: unknown): OvsdbError {
  const err = e as NodeJS.ErrnoException;
  const reason = err.code ? `${err.message.replace(/^[A-Z]+: /, '').replace(/, .*$/, '')}` : String(e);
  return new OvsdbError('I/O error', `${what} (${reason})`);
}

function takeLock(dbPath: string): { fd: number; name: string } {
  const name = lockFileName(dbPath);
  if (heldLocks.has(name)) {
    throw new OvsdbError('I/O error', `${dbPath}: failed to lock lockfile (Resource deadlock avoided)`);
  }
  let fd: number;
  try {
    fd = fs.openSync(name, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  } catch (e) {
    throw ioError(`${name}: failed to open lock file`, e);
  }
  let ok: boolean;
  try {
    ok = nativeAddon().lockFile(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (!ok) {
    let owner = 0;
    try {
      owner = nativeAddon().lockOwner(fd);
    } catch {
      owner = 0;
    }
    fs.closeSync(fd);
    const by = owner > 0 ? `; already locked by pid ${owner}` : '';
    throw new OvsdbError('I/O error', `${dbPath}: failed to lock lockfile (Resource temporarily unavailable)${by}`);
  }
  heldLocks.add(name);
  return { fd, name };
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes all of buf at the file's end, looping over short writes. */
function writeAll(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done);
}

/** OVS writes diffs only for columns that can hold more than one element. */
function isComposite(t: ColumnType): boolean {
  return t.max > 1;
}

/** The same type with no size limits: a diff may have more members than the column allows. */
function relaxed(t: ColumnType): ColumnType {
  return { key: t.key, value: t.value, min: 0, max: Infinity };
}

function blankRow(table: TableSchema, uuid: string): Row {
  const data = new Map<string, Datum>();
  for (const c of table.columns.values()) data.set(c.name, datumDefault(c.type));
  return { uuid, version: newUuid(), data };
}

/** Persistent columns of a table, computed once per table. */
const persistentCache = new WeakMap<TableSchema, ColumnSchema[]>();
function persistentColumns(table: TableSchema): ColumnSchema[] {
  let cols = persistentCache.get(table);
  if (!cols) {
    cols = [...table.columns.values()].filter((c) => !c.ephemeral);
    persistentCache.set(table, cols);
  }
  return cols;
}

/** A row as an insert in the file: its non-default persistent columns. */
function rowToJson(table: TableSchema, row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of persistentColumns(table)) {
    const d = row.data.get(c.name);
    if (d !== undefined && !datumIsDefault(c.type, d)) out[c.name] = datumToJson(c.type, d);
  }
  return out;
}

/**
 * The standalone-format JSON of a change, or null when nothing persistent
 * changed. Modified set and map columns are written as diffs (`_is_diff`)
 * unless some diff has more members than its column allows: OVS's reader
 * rejects such a diff, so then the whole record carries full values instead.
 */
export function changeToJson(schema: DatabaseSchema, change: Change): Record<string, unknown> | null {
  const withDiffs = changeToJson__(schema, change, true);
  return withDiffs !== undefined ? withDiffs : (changeToJson__(schema, change, false) ?? null);
}

/** Returns undefined when `useDiff` is set but a diff does not fit its column. */
function changeToJson__(
  schema: DatabaseSchema,
  change: Change,
  useDiff: boolean,
): Record<string, unknown> | null | undefined {
  let out: Record<string, unknown> | null = null;
  for (const [tname, rows] of change.tables) {
    const table = schema.tables.get(tname);
    if (!table) continue;
    let tjson: Record<string, unknown> | null = null;
    for (const [uuid, rc] of rows) {
      let rjson: Record<string, unknown> | null | undefined;
      if (!rc.new) {
        if (rc.old) rjson = null;
      } else if (!rc.old) {
        rjson = rowToJson(table, rc.new);
      } else {
        for (const c of persistentColumns(table)) {
          const o = rc.old.data.get(c.name);
          const n = rc.new.data.get(c.name);
          if (o === undefined || n === undefined || datumEquals(o, n)) continue;
          let v: Datum = n;
          if (useDiff && isComposite(c.type)) {
            v = datumDiff(c.type, o, n);
            if (v.keys.length > c.type.max) return undefined;
          }
          (rjson ??= {})[c.name] = datumToJson(c.type, v);
        }
      }
      if (rjson === undefined) continue;
      (tjson ??= {})[uuid] = rjson;
    }
    if (tjson) (out ??= {})[tname] = tjson;
  }
  if (out && useDiff) out._is_diff = true;
  return out;
}

/** Applies one transaction record to the database (ovsdb/file.c semantics). */
function replayRecord(db: Database, json: Record<string, unknown>): void {
  const isDiff = json._is_diff === true;
  for (const [tname, tjson] of Object.entries(json)) {
    const table = db.schema.tables.get(tname);
    if (!table) {
      if (tname === '_date' || tname === '_comment' || tname === '_is_diff') continue;
      throw new OvsdbError('syntax error', `unknown table: No table named ${tname}.`);
    }
    if (typeof tjson !== 'object' || tjson === null || Array.isArray(tjson)) {
      throw new OvsdbError('syntax error', `table ${tname}: object expected`);
    }
    let rows = db.tables.get(tname);
    if (!rows) {
      rows = new Map();
      db.tables.set(tname, rows);
    }
    for (const [rawUuid, rjson] of Object.entries(tjson as Record<string, unknown>)) {
      if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(rawUuid)) {
        throw new OvsdbError('syntax error', `"${rawUuid}" is not a valid UUID`);
      }
      const uuid = rawUuid.toLowerCase();
      const old = rows.get(uuid);
      if (rjson === null) {
        if (!old) throw new OvsdbError('syntax error', `transaction deletes row ${uuid} that does not exist`);
        rows.delete(uuid);
        continue;
      }
      if (typeof rjson !== 'object' || Array.isArray(rjson)) {
        throw new OvsdbError('syntax error', 'row must be JSON object');
      }
      // A fresh Row object: rows may be shared with earlier snapshots by callers.
      const row: Row = old
        ? { uuid, version: newUuid(), data: new Map(old.data) }
        : blankRow(table, uuid);
      for (const [cname, cjson] of Object.entries(rjson as Record<string, unknown>)) {
        if (cname === '_uuid' || cname === '_version') continue;
        const col = table.columns.get(cname);
        if (!col) throw new OvsdbError('syntax error', `unknown column: No column ${cname} in table ${tname}.`);
        const cur = row.data.get(cname) ?? datumDefault(col.type);
        // As in OVS, a diff against a default (empty) value is simply the value.
        if (isDiff && isComposite(col.type) && !datumIsDefault(col.type, cur)) {
          const diff = datumFromJson(relaxed(col.type), cjson);
          const next = datumApplyDiff(col.type, cur, diff);
          if (next.keys.length < col.type.min || next.keys.length > col.type.max) {
            throw new OvsdbError('syntax error', `column ${tname}.${cname}: datum created by diff has size error`);
          }
          row.data.set(cname, next);
        } else {
          row.data.set(cname, datumFromJson(col.type, cjson));
        }
      }
      rows.set(uuid, row);
    }
  }
}

/**
 * An open standalone database file, locked against other writers and
 * positioned for appending transaction records.
 */
export class DbFile {
  private fd: number;
  private lockFd: number;
  private readonly lockName: string;
  private offset: number;
  /** Size right after the last compaction (or the first transaction record): OVS's "base". */
  private base: number;
  /** Records in the log, the schema included. */
  private records: number;
  /** Transaction records read or written since the last compaction. */
  private sinceSnapshot: number;
  private nextCompactMin = 0;
  private nextCompactMax = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly wallClock: () => number;

  private constructor(
    readonly path: string,
    private readonly schema: DatabaseSchema,
    /** The schema record's body, rewritten verbatim by compaction. */
    private readonly schemaBody: Buffer,
    fd: number,
    lock: { fd: number; name: string },
    state: { offset: number; base: number; records: number },
    opts: DbFileOptions,
  ) {
    this.fd = fd;
    this.lockFd = lock.fd;
    this.lockName = lock.name;
    this.offset = state.offset;
    this.base = state.base;
    this.records = state.records;
    this.sinceSnapshot = state.records - 1;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.wallClock = opts.wallClock ?? Date.now;
    this.scheduleCompaction(false);
  }

  /** Like `ovsdb-tool create`: a new file holding only the schema. Fails if the file exists. */
  static create(dbPath: string, schemaJson: object): void {
    parseSchema(schemaJson);
    const record = composeRecord(schemaJson);
    let fd: number;
    try {
      fd = fs.openSync(dbPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      throw ioError(`${dbPath}: create failed`, e);
    }
    try {
      writeAll(fd, record);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(dbPath, { force: true });
      throw ioError(`${dbPath}: write failed`, e);
    }
    fs.closeSync(fd);
    fsyncDir(path.dirname(path.resolve(dbPath)));
  }

  /**
   * Locks and reads a database file and rebuilds its contents. A torn or
   * corrupt tail (bad header, short body, checksum mismatch) is logged and cut
   * off; a bad schema record is an error.
   */
  static open(dbPath: string, log: (msg: string) => void, opts: DbFileOptions = {}): { file: DbFile; db: Database } {
    const lock = takeLock(dbPath);
    let fd: number | undefined;
    try {
      fd = fs.openSync(dbPath, fs.constants.O_RDWR | fs.constants.O_APPEND);
      const buf = fs.readFileSync(fd);
      const scan = scanLog(buf, dbPath);
      const first = scan.records[0];
      if (!first) {
        throw new OvsdbError('syntax error', scan.error ?? `${dbPath}: file contains no schema`);
      }
      const schema = parseSchema(first.json);
      const db = new Database(schema);
      for (let i = 1; i < scan.records.length; i++) {
        const rec = scan.records[i]!;
        try {
          replayRecord(db, rec.json);
        } catch (e) {
          if (!(e instanceof OvsdbError)) throw e;
          throw new OvsdbError(e.tag, `${dbPath}: record ${i} at offset ${rec.offset}: ${e.details ?? e.message}`);
        }
      }
      if (scan.error !== undefined) {
        log(`${scan.error}; truncating ${dbPath} from ${buf.length} to ${scan.goodEnd} bytes at offset ${scan.goodEnd}`);
        fs.ftruncateSync(fd, scan.goodEnd);
        fs.fsyncSync(fd);
      }
      // OVS takes the end of the first transaction record as the base size.
      const base = (scan.records[1] ?? first).end;
      const file = new DbFile(dbPath, schema, Buffer.from(first.body), fd, lock, {
        offset: scan.goodEnd,
        base,
        records: scan.records.length,
      }, opts);
      return { file, db };
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.closeSync(lock.fd);
      heldLocks.delete(lock.name);
      if (e instanceof OvsdbError) throw e;
      throw ioError(`${dbPath}: open failed`, e);
    }
  }

  /** Bytes in the file. */
  get size(): number {
    return this.offset;
  }

  /**
   * Appends one committed change as a transaction record (nothing when only
   * ephemeral columns changed). Once this returns the record is in the kernel,
   * so it survives the death of this process; `durable` also waits for the disk.
   */
  append(change: Change, opts: { durable: boolean }): void {
    this.checkOpen();
    const json = changeToJson(this.schema, change);
    if (!json) return;
    if (change.comment) json._comment = change.comment;
    json._date = this.wallClock();
    const record = composeRecord(json);
    try {
      writeAll(this.fd, record);
    } catch (e) {
      // Leave no partial record behind for the next append to follow.
      try {
        fs.ftruncateSync(this.fd, this.offset);
      } catch {
        // Nothing more to do; the reader cuts off a torn tail.
      }
      throw ioError(`${this.path}: write failed`, e);
    }
    this.offset += record.length;
    this.records++;
    this.sinceSnapshot++;
    if (opts.durable) {
      try {
        fs.fdatasyncSync(this.fd);
      } catch (e) {
        throw ioError(`${this.path}: fsync failed`, e);
      }
    }
  }

  /**
   * Atomically replaces the file by the schema plus one snapshot record of
   * `db`, the way ovsdb-server compacts: write `<file>.tmp`, sync it, rename
   * it over the file, sync the directory, continue appending to the new file.
   */
  compact(db: Database): void {
    this.checkOpen();
    const snapshot: Record<string, unknown> = {};
    for (const [tname, rows] of db.tables) {
      const table = this.schema.tables.get(tname);
      if (!table || rows.size === 0) continue;
      const tjson: Record<string, unknown> = {};
      for (const [uuid, row] of rows) tjson[uuid] = rowToJson(table, row);
      snapshot[tname] = tjson;
    }
    snapshot._comment = COMPACT_COMMENT;
    snapshot._is_diff = true;
    snapshot._date = this.wallClock();

    const target = realTarget(this.path);
    const tmp = `${target}.tmp`;
    const schemaRecord = frameRecord(this.schemaBody);
    const dataRecord = composeRecord(snapshot);
    let fd: number | undefined;
    try {
      fs.rmSync(tmp, { force: true });
      fd = fs.openSync(tmp, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_APPEND, 0o644);
      writeAll(fd, schemaRecord);
      writeAll(fd, dataRecord);
      fs.fsyncSync(fd);
      fs.renameSync(tmp, target);
    } catch (e) {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      this.scheduleCompaction(true);
      throw ioError(`${this.path}: compaction failed`, e);
    }
    fsyncDir(path.dirname(target));
    fs.closeSync(this.fd);
    this.fd = fd;
    this.offset = schemaRecord.length + dataRecord.length;
    this.base = this.offset;
    this.records = 2;
    this.sinceSnapshot = 0;
    this.scheduleCompaction(false);
  }

  /**
   * ovsdb-server's rule for compacting on its own: never before a randomized
   * 10-20 minutes since open or the last compaction; then if the log holds at
   * least 100 records and has grown past 10 MB and to twice its compacted
   * size; or, a day after the last compaction, if anything was logged at all.
   */
  shouldCompact(): boolean {
    if (this.closed) return false;
    const now = this.now();
    if (now < this.nextCompactMin) return false;
    if (now < this.nextCompactMax) {
      const grewLots = this.offset > COMPACTION.minBytes && this.offset / 2 > this.base;
      return this.records >= COMPACTION.minRecords && grewLots;
    }
    return this.sinceSnapshot > 0;
  }

  /** Releases the file and its lock. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
    fs.closeSync(this.lockFd);
    heldLocks.delete(this.lockName);
  }

  private checkOpen(): void {
    if (this.closed) throw new OvsdbError('I/O error', `${this.path}: file is closed`);
  }

  private scheduleCompaction(quick: boolean): void {
    const div = quick ? COMPACTION.retryDivisor : 1;
    const now = this.now();
    this.nextCompactMin = now + COMPACTION.minIntervalMs / div + Math.floor(this.random() * (COMPACTION.jitterMs / div));
    if (!quick) this.nextCompactMax = now + COMPACTION.maxIntervalMs;
  }
}

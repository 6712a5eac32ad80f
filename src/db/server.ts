// The OVSDB JSON-RPC server (ovsdb-server's jsonrpc-server.c and trigger.c):
// sessions, the methods of RFC 7047 plus the OVS extensions, transactions
// that block on "wait", monitors, and locks.
//
// Everything runs on the event loop, one message at a time, so a transaction
// is atomic by construction. The order on commit is: apply (executeTransaction)
// -> append to the file (fsync if durable) -> send every monitor's update ->
// send the reply; so a client that monitors what it changes sees the update
// before the reply, as ovsdb-server(7) promises.
import type { Socket } from 'node:net';
import type { Change, Database } from './database.js';
import type { DbFile } from './storage.js';
import { OvsdbError, sortedJson, syntaxError } from './errors.js';
import { ZERO_UUID, newUuid } from './datum.js';
import { executeTransaction, type TxnOutcome } from './transaction.js';
import { CommitView, Monitor, type MonitorVersion } from './monitor.js';
import { SERVER_DB_NAME, ServerDatabase } from './server-db.js';
import { JsonRpcConnection, DEFAULT_MAX_MESSAGE_BYTES, type NotifyMessage, type RequestMessage } from '../lib/jsonrpc.js';
import { listenStream, type StreamListener, type TlsFiles } from '../lib/stream.js';
import { vlogModule } from '../lib/vlog.js';

const log = vlogModule('ovsdb_jsonrpc_server');

/** One database the server hosts. */
export interface ServedDb {
  readonly name: string;
  readonly db: Database;
  /** null for _Server and for in-memory databases. */
  readonly file: DbFile | null;
  readonly path: string | null;
  /** Transactions blocked in "wait", oldest first. */
  readonly triggers: Trigger[];
  /** Every monitor on this database, across sessions. */
  readonly monitors: Set<SessionMonitor>;
  /** Initial monitor replies shared by identical unconditional monitors; cleared on commit. */
  initialCache: Map<string, string | null>;
  /** get_schema's reply text, made once. */
  schemaText: string | null;
}

interface SessionMonitor {
  session: Session;
  sdb: ServedDb;
  monitor: Monitor;
}

interface Trigger {
  session: Session;
  id: unknown;
  idKey: string;
  sdb: ServedDb;
  ops: unknown[];
  created: number;
  /** When a blocked "wait" gives up (null: never). */
  deadline: number | null;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

interface LockWaiter {
  session: Session;
  name: string;
  mode: 'wait' | 'steal';
  /** false once the lock was stolen away from a stealer (OVS "lost"). */
  queued: boolean;
}

export interface ServerOptions {
  maxMessageBytes?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

function jsonKey(v: unknown): string {
  return JSON.stringify(v) ?? 'undefined';
}

function errorJson(e: unknown): unknown {
  if (e instanceof OvsdbError) return e.toJSON();
  const msg = e instanceof Error ? e.message : String(e);
  return { error: 'internal error', details: msg };
}

/** One client connection. */
export class Session {
  readonly monitors = new Map<string, SessionMonitor>();
  readonly triggers = new Map<string, Trigger>();
  readonly locks = new Map<string, LockWaiter>();
  dbChangeAware = false;

  constructor(
    readonly server: OvsdbServer,
    readonly conn: JsonRpcConnection,
  ) {}

  get name(): string {
    return this.conn.name;
  }
}

export class OvsdbServer {
  readonly serverId = newUuid();
  readonly maxMessageBytes: number;
  /** Unsent bytes after which a session is dropped. */
  readonly backlogLimit: number;
  private readonly dbs = new Map<string, ServedDb>();
  private readonly serverDb = new ServerDatabase();
  private readonly sessions = new Set<Session>();
  private readonly lockQueues = new Map<string, LockWaiter[]>();
  private readonly listeners = new Map<string, StreamListener>();
  private readonly now: () => number;
  private sessionCount = 0;
  /** Guards against re-entering runTriggers from a commit made by a trigger. */
  private runningTriggers = false;
  private dirtyDbs = new Set<ServedDb>();
  tls: TlsFiles = {};

  constructor(options: ServerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.backlogLimit = Math.max(4 * this.maxMessageBytes, 256 * 1024 * 1024);
    this.now = options.now ?? Date.now;
    this.addServed(SERVER_DB_NAME, this.serverDb.db, null, null);
    this.serverDb.setDatabases([]);
  }

  // ----- databases -----

  addDatabase(db: Database, file: DbFile | null, path: string | null): ServedDb {
    const name = db.schema.name;
    if (this.dbs.has(name)) throw new OvsdbError('syntax error', `${path ?? name}: already open`);
    const sdb = this.addServed(name, db, file, path);
    this.refreshServerDb();
    return sdb;
  }

  private addServed(name: string, db: Database, file: DbFile | null, path: string | null): ServedDb {
    const sdb: ServedDb = {
      name, db, file, path, triggers: [], monitors: new Set(), initialCache: new Map(), schemaText: null,
    };
    this.dbs.set(name, sdb);
    return sdb;
  }

  private refreshServerDb(): void {
    this.serverDb.setDatabases([...this.dbs.values()].map((d) => ({ name: d.name, schema: d.db.schema })));
    this.dbs.get(SERVER_DB_NAME)!.initialCache.clear();
  }

  databases(): ServedDb[] {
    return [...this.dbs.values()];
  }

  database(name: string): ServedDb | undefined {
    return this.dbs.get(name);
  }

  /** Online compaction of one or every file-backed database; returns the problems, if any. */
  compact(name?: string): string[] {
    const errors: string[] = [];
    for (const sdb of this.dbs.values()) {
      if (name !== undefined && sdb.name !== name) continue;
      if (!sdb.file) continue;
      try {
        sdb.file.compact(sdb.db);
        log.info(`${sdb.path}: compacted`);
      } catch (e) {
        errors.push(`${sdb.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return errors;
  }

  /** Compacts the files whose policy says so (called after commits and periodically). */
  autoCompact(): void {
    for (const sdb of this.dbs.values()) {
      if (sdb.file?.shouldCompact()) {
        try {
          sdb.file.compact(sdb.db);
          log.info(`${sdb.path}: compacted automatically`);
        } catch (e) {
          log.warn(`${sdb.path}: compaction failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }

  // ----- remotes -----

  async addRemote(target: string): Promise<string> {
    if (this.listeners.has(target)) return this.listeners.get(target)!.boundName;
    const listener = await listenStream(target, (socket) => this.accept(socket, target), { tls: this.tls });
    this.listeners.set(target, listener);
    log.info(`listening on ${listener.boundName}`);
    return listener.boundName;
  }

  async removeRemote(target: string): Promise<boolean> {
    const l = this.listeners.get(target);
    if (!l) return false;
    this.listeners.delete(target);
    await l.close();
    return true;
  }

  remotes(): string[] {
    return [...this.listeners.keys()].sort();
  }

  /** The bound address of a remote (useful for "ptcp:0"). */
  boundName(target: string): string | undefined {
    return this.listeners.get(target)?.boundName;
  }

  private accept(socket: Socket, target: string): void {
    const peer = target.startsWith('punix:') ? `unix#${this.sessionCount}` : `${socket.remoteAddress}:${socket.remotePort}`;
    this.sessionCount++;
    const probe = target.startsWith('punix:') ? 0 : 5000;
    const conn = new JsonRpcConnection(socket, { name: peer, maxMessageBytes: this.maxMessageBytes, probeIntervalMs: probe });
    this.attach(conn);
  }

  /** Serves a connection (exported for tests, which may hand in any duplex stream). */
  attach(conn: JsonRpcConnection): Session {
    const session = new Session(this, conn);
    this.sessions.add(session);
    conn.on('request', (msg) => this.guard(session, () => this.onRequest(session, msg), msg.id));
    conn.on('notify', (msg) => this.guard(session, () => this.onNotify(session, msg), undefined));
    conn.on('unmatched', (msg) => {
      log.warn(`${session.name}: received unexpected ${msg.type} message`);
    });
    conn.on('close', () => this.closeSession(session));
    return session;
  }

  get sessionTotal(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.conn.close();
    for (const t of [...this.listeners.keys()]) await this.removeRemote(t);
    for (const sdb of this.dbs.values()) sdb.file?.close();
  }

  private guard(session: Session, fn: () => void, id: unknown): void {
    try {
      fn();
    } catch (e) {
      // A bug must cost one request, not the server.
      log.err(`${session.name}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (id !== undefined) session.conn.replyError(id, errorJson(e));
    }
  }

  private closeSession(session: Session): void {
    if (!this.sessions.delete(session)) return;
    for (const t of session.triggers.values()) this.dropTrigger(t);
    session.triggers.clear();
    for (const sm of session.monitors.values()) sm.sdb.monitors.delete(sm);
    session.monitors.clear();
    for (const w of [...session.locks.values()]) this.unlockWaiter(w);
    session.locks.clear();
  }

  // ----- dispatch -----

  private onRequest(s: Session, req: RequestMessage): void {
    const reply = (result: unknown): void => s.conn.reply(req.id, result);
    const fail = (error: unknown): void => s.conn.replyError(req.id, error instanceof OvsdbError ? error.toJSON() : error);
    const p = req.params;
    switch (req.method) {
      case 'transact': {
        const sdb = this.lookupDb(s, req);
        if (sdb) this.startTransaction(s, sdb, req);
        return;
      }
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since': {
        const sdb = this.lookupDb(s, req);
        if (!sdb) return;
        const version: MonitorVersion = req.method === 'monitor' ? 1 : req.method === 'monitor_cond' ? 2 : 3;
        try {
          // The result is pre-serialized JSON text (shared between identical monitors).
          s.conn.sendRaw(`{"id":${JSON.stringify(req.id)},"result":${this.createMonitor(s, sdb, p, version)},"error":null}`);
        } catch (e) {
          if (!(e instanceof OvsdbError)) throw e;
          fail(e);
        }
        return;
      }
      case 'monitor_cond_change':
        try {
          this.changeMonitor(s, p);
          reply({});
        } catch (e) {
          if (!(e instanceof OvsdbError)) throw e;
          fail(e);
        }
        return;
      case 'monitor_cancel': {
        if (p.length !== 1) return fail('invalid parameters');
        const key = jsonKey(p[0]);
        const sm = s.monitors.get(key);
        if (!sm) return fail('unknown monitor');
        s.monitors.delete(key);
        sm.sdb.monitors.delete(sm);
        return reply({});
      }
      case 'get_schema': {
        const sdb = this.lookupDb(s, req);
        if (sdb) {
          sdb.schemaText ??= JSON.stringify(sdb.db.schema.json);
          s.conn.sendRaw(`{"id":${JSON.stringify(req.id)},"result":${sdb.schemaText},"error":null}`);
        }
        return;
      }
      case 'list_dbs':
        return reply([...this.dbs.keys()].sort());
      case 'get_server_id':
        return reply(this.serverId);
      case 'lock':
      case 'steal':
        try {
          reply(this.lock(s, p, req.method));
        } catch (e) {
          if (!(e instanceof OvsdbError)) throw e;
          fail(e);
        }
        return;
      case 'unlock':
        try {
          this.unlock(s, p);
          reply({});
        } catch (e) {
          if (!(e instanceof OvsdbError)) throw e;
          fail(e);
        }
        return;
      case 'set_db_change_aware':
        if (p.length !== 1 || typeof p[0] !== 'boolean') {
          return fail(syntaxError(p, 'set_db_change_aware: true or false parameter expected'));
        }
        s.dbChangeAware = p[0];
        return reply({});
      case 'echo':
        return reply(p);
      default:
        return fail('unknown method');
    }
  }

  private onNotify(s: Session, msg: NotifyMessage): void {
    if (msg.method !== 'cancel' || msg.params.length !== 1) return;
    const t = s.triggers.get(jsonKey(msg.params[0]));
    if (!t) return;
    // A blocked transaction is dropped; only change-aware clients are told (RFC 7047 "canceled").
    this.dropTrigger(t);
    s.triggers.delete(t.idKey);
    if (s.dbChangeAware) s.conn.replyError(t.id, 'canceled');
  }

  private lookupDb(s: Session, req: RequestMessage): ServedDb | null {
    const p = req.params;
    let err: OvsdbError;
    if (p.length === 0 || typeof p[0] !== 'string') {
      err = syntaxError(p, `${req.method} request params must begin with <db-name>`);
    } else {
      const sdb = this.dbs.get(p[0]);
      if (sdb) return sdb;
      err = new OvsdbError('unknown database', `${req.method} request specifies unknown database ${p[0]}`, sortedJson(p));
    }
    s.conn.replyError(req.id, err.toJSON());
    return null;
  }

  // ----- transactions -----

  private startTransaction(s: Session, sdb: ServedDb, req: RequestMessage): void {
    const idKey = jsonKey(req.id);
    if (s.triggers.has(idKey)) {
      s.conn.replyError(req.id, syntaxError(req.params, 'transact: duplicate request ID').toJSON());
      return;
    }
    const t: Trigger = {
      session: s,
      id: req.id,
      idKey,
      sdb,
      ops: req.params.slice(1),
      created: this.now(),
      deadline: null,
      timer: null,
      done: false,
    };
    if (!this.tryTrigger(t)) {
      s.triggers.set(idKey, t);
      sdb.triggers.push(t);
    }
    this.runTriggers();
  }

  /** Runs a transaction once; returns true when it completed (replied), false when it stays blocked. */
  private tryTrigger(t: Trigger, timedOut = false): boolean {
    const s = t.session;
    const ctx = {
      hasLock: (name: string) => this.hasLock(s, name),
      // At the deadline, make sure the wait sees its time as up even if the timer fired a little early.
      now: () => (timedOut ? Math.max(this.now(), t.deadline ?? 0) : this.now()),
      startedAt: t.created,
    };
    // _Server is refused changes by executeTransaction itself (a reserved database).
    const outcome: TxnOutcome = executeTransaction(t.sdb.db, t.ops, ctx);
    if (outcome.kind === 'blocked') {
      if (timedOut || (outcome.deadline !== null && outcome.deadline <= this.now())) {
        this.finish(t, outcome.results);
        return true;
      }
      this.armTimer(t, outcome.deadline);
      return false;
    }
    let results = outcome.results;
    if (outcome.change) {
      const err = this.commit(t.sdb, outcome.change);
      if (err) results = [...results, err];
    }
    this.finish(t, results);
    return true;
  }

  private armTimer(t: Trigger, deadline: number | null): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.deadline = deadline;
    if (deadline === null) return;
    // setTimeout cannot wait longer than 2^31-1 ms; a later deadline is reached in steps.
    const delay = Math.min(Math.max(0, deadline - this.now()), 0x7fffffff);
    t.timer = setTimeout(() => {
      t.timer = null;
      if (t.done) return;
      if (this.now() < deadline - 1) {
        this.armTimer(t, deadline);
        return;
      }
      this.guard(t.session, () => {
        this.removeTrigger(t);
        this.tryTrigger(t, true);
        this.runTriggers();
      }, t.id);
    }, delay);
  }

  private finish(t: Trigger, results: unknown[]): void {
    t.done = true;
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    t.session.conn.reply(t.id, results);
  }

  private removeTrigger(t: Trigger): void {
    const i = t.sdb.triggers.indexOf(t);
    if (i >= 0) t.sdb.triggers.splice(i, 1);
    t.session.triggers.delete(t.idKey);
  }

  private dropTrigger(t: Trigger): void {
    t.done = true;
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
    const i = t.sdb.triggers.indexOf(t);
    if (i >= 0) t.sdb.triggers.splice(i, 1);
  }

  /** Re-runs blocked transactions of every database that changed, until nothing more commits. */
  private runTriggers(): void {
    if (this.runningTriggers) return;
    this.runningTriggers = true;
    try {
      while (this.dirtyDbs.size > 0) {
        const [sdb] = this.dirtyDbs;
        this.dirtyDbs.delete(sdb!);
        for (const t of [...sdb!.triggers]) {
          if (t.done) continue;
          let completed = false;
          this.guard(t.session, () => {
            try {
              completed = this.tryTrigger(t);
            } catch (e) {
              t.done = true;
              throw e;
            }
          }, t.id);
          if (completed || t.done) this.removeTrigger(t);
        }
      }
    } finally {
      this.runningTriggers = false;
    }
  }

  /** Makes a committed change durable and visible. Returns an error object for the reply if storing failed. */
  private commit(sdb: ServedDb, change: Change): unknown {
    let err: unknown = null;
    if (sdb.file) {
      try {
        sdb.file.append(change, { durable: change.durable });
      } catch (e) {
        log.err(`${sdb.path}: ${e instanceof Error ? e.message : String(e)}`);
        err = e instanceof OvsdbError ? e.toJSON() : { error: 'I/O error', details: String(e) };
      }
    }
    sdb.initialCache.clear();
    if (sdb.monitors.size > 0) {
      const view = new CommitView(change);
      for (const sm of sdb.monitors) {
        const upd = sm.monitor.updateText(view);
        if (upd !== null) this.sendUpdate(sm, upd);
      }
    }
    this.dirtyDbs.add(sdb);
    if (sdb.file?.shouldCompact()) this.autoCompact();
    return err;
  }

  /** Sends an update notification whose table-updates are already JSON text. */
  private sendUpdate(sm: SessionMonitor, tableUpdates: string): void {
    const m = sm.monitor;
    const conn = sm.session.conn;
    const txnId = m.version === 3 ? `"${ZERO_UUID}",` : '';
    conn.sendRaw(`{"id":null,"method":"${m.updateMethod}","params":[${JSON.stringify(m.id)},${txnId}${tableUpdates}]}`);
    // A monitoring client that stopped reading would otherwise make us buffer every change forever.
    if (conn.backlog > this.backlogLimit) {
      log.warn(`${sm.session.name}: ${conn.backlog} bytes of unread updates, disconnecting`);
      conn.stream.destroy();
    }
  }

  // ----- monitors -----

  private createMonitor(s: Session, sdb: ServedDb, p: unknown[], version: MonitorVersion): string {
    if ((version === 2 && p.length !== 3) || (version === 3 && p.length !== 4) || (version === 1 && p.length < 3)) {
      throw syntaxError(p, 'invalid parameters');
    }
    const id = p[1];
    const requests = p[2];
    if (typeof requests !== 'object' || requests === null || Array.isArray(requests)) {
      throw syntaxError(requests, 'monitor-requests must be object');
    }
    const key = jsonKey(id);
    if (s.monitors.has(key)) throw syntaxError(id, 'duplicate monitor ID');
    const monitor = Monitor.create(sdb.db, id, requests, version);
    if (version === 3) {
      const last = p[3];
      if (typeof last !== 'string') throw syntaxError(last, 'last-txn-id must be string');
      if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(last)) {
        throw syntaxError(last, 'last-txn-id must be UUID format.');
      }
    }
    const sm: SessionMonitor = { session: s, sdb, monitor };
    s.monitors.set(key, sm);
    sdb.monitors.add(sm);
    const initial = monitor.initialText(sdb.initialCache);
    // A standalone database keeps no transaction history: never "found", always the zero id.
    return version === 3 ? `[false,"${ZERO_UUID}",${initial}]` : initial;
  }

  private changeMonitor(s: Session, p: unknown[]): void {
    if (p.length !== 3) throw syntaxError(p, 'invalid parameters');
    const sm = s.monitors.get(jsonKey(p[0]));
    if (!sm) throw syntaxError(p[0], 'unknown monitor session');
    const newId = p[1];
    const changingId = jsonKey(newId) !== jsonKey(p[0]);
    if (changingId && s.monitors.has(jsonKey(newId))) throw syntaxError(newId, 'duplicate monitor ID');
    const upd = sm.monitor.changeConditions(p[2]);
    if (changingId) {
      s.monitors.delete(jsonKey(p[0]));
      sm.monitor.id = newId;
      s.monitors.set(jsonKey(newId), sm);
    }
    if (upd) this.sendUpdate(sm, JSON.stringify(upd));
  }

  // ----- locks -----

  private parseLockName(p: unknown[], method: string): string {
    if (p.length !== 1 || typeof p[0] !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p[0])) {
      throw syntaxError(p, `${method} request params must be <id>`);
    }
    return p[0];
  }

  private lock(s: Session, p: unknown[], method: 'lock' | 'steal'): unknown {
    const name = this.parseLockName(p, method);
    if (s.locks.has(name)) throw syntaxError(p, `must issue "unlock" before new "${method}"`);
    let queue = this.lockQueues.get(name);
    if (!queue) {
      queue = [];
      this.lockQueues.set(name, queue);
    }
    const victim = method === 'steal' && queue.length > 0 ? queue[0]! : null;
    const w: LockWaiter = { session: s, name, mode: method === 'steal' ? 'steal' : 'wait', queued: true };
    if (method === 'steal') queue.unshift(w);
    else queue.push(w);
    s.locks.set(name, w);
    if (victim) {
      // A stealer that is robbed in turn loses its place; a waiter keeps it.
      if (victim.mode === 'steal') this.dequeue(victim);
      victim.session.conn.notify('stolen', [name]);
    }
    return { locked: queue[0] === w };
  }

  private unlock(s: Session, p: unknown[]): void {
    const name = this.parseLockName(p, 'unlock');
    const w = s.locks.get(name);
    if (!w) throw syntaxError(p, 'unlock: "unlock" without "lock" or "steal"');
    this.unlockWaiter(w);
  }

  private unlockWaiter(w: LockWaiter): void {
    w.session.locks.delete(w.name);
    if (!w.queued) return;
    const owner = this.dequeue(w);
    // Like ovsdb-server, the owner afterwards is told "locked" even if it already was.
    if (owner) owner.session.conn.notify('locked', [w.name]);
  }

  /** Removes a waiter from its queue; returns the queue's (new or old) owner. */
  private dequeue(w: LockWaiter): LockWaiter | null {
    w.queued = false;
    const queue = this.lockQueues.get(w.name);
    if (!queue) return null;
    const i = queue.indexOf(w);
    if (i >= 0) queue.splice(i, 1);
    if (queue.length === 0) {
      this.lockQueues.delete(w.name);
      return null;
    }
    return queue[0]!;
  }

  private hasLock(s: Session, name: string): boolean {
    const w = s.locks.get(name);
    return w !== undefined && w.queued && this.lockQueues.get(name)?.[0] === w;
  }

  /** memory/show figures. */
  memoryUsage(): Record<string, number> {
    let monitors = 0;
    let triggers = 0;
    let cells = 0;
    for (const sdb of this.dbs.values()) {
      monitors += sdb.monitors.size;
      triggers += sdb.triggers.length;
      if (sdb.name === SERVER_DB_NAME) continue;
      for (const rows of sdb.db.tables.values()) {
        for (const row of rows.values()) cells += row.data.size;
      }
    }
    return { cells, monitors, sessions: this.sessions.size, triggers };
  }
}

// The OVSDB IDL: a client that keeps an in-memory replica of (part of) one
// database in step with an ovsdb-server, and commits transactions against it.
//
// The session follows OVS's lib/ovsdb-cs.c: learn the schema from the _Server
// database (falling back to get_schema when the server has no _Server), then
// monitor_cond_since, falling back to monitor_cond and to plain monitor.
// Long-lived clients reconnect with exponential backoff, rebuild the replica
// and re-request their lock.
import { EventEmitter } from 'node:events';
import type { NotifyMessage } from '../lib/jsonrpc.js';
import { JsonRpcConnection, JsonRpcError, connectStream } from '../lib/jsonrpc.js';
import { ZERO_UUID } from './datum.js';
import type { DatabaseSchema } from './schema.js';
import { parseSchema } from './schema.js';
import type { IdlRow, TableSelection } from './idl-replica.js';
import { IdlError, Replica } from './idl-replica.js';
import type { IdlTxn, TransactOutcome, TxnHost, TxnResult } from './idl-txn.js';
import { IdlTxnImpl } from './idl-txn.js';

export type { IdlRow, TableSelection } from './idl-replica.js';
export { IdlError } from './idl-replica.js';
export type { IdlTxn, TxnResult, TxnRow } from './idl-txn.js';
export { rowName } from './idl-txn.js';

export interface IdlOptions {
  /** unix:PATH | tcp:IP:PORT | ssl:IP:PORT */
  remote: string;
  /** Default 'Open_vSwitch'. */
  database?: string;
  /** Tables/columns to replicate; default every table, every column. */
  tables?: TableSelection;
  ssl?: { key?: string; cert?: string; ca?: string };
  /** Keep reconnecting after failures (long-lived clients). Default false. */
  reconnect?: boolean;
  /** Longest wait between reconnection attempts; default 8000 ms as in OVS. */
  maxBackoffMs?: number;
  /** Inactivity probe interval; default 5000 ms for tcp/ssl, off for unix. 0 disables. */
  probeIntervalMs?: number;
  /** Request this lock and keep it requested across reconnects. */
  lock?: string;
  log?: (msg: string) => void;
}

/** Columns of _Server's Database table that OVS's client reads. */
const SERVER_COLUMNS = ['name', 'model', 'connected', 'leader', 'schema', 'cid', 'index'];
const SERVER_DB = '_Server';
const MIN_BACKOFF_MS = 1000;

interface Waiter {
  pred: () => boolean;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | null;
}

/** A data-monitor request in flight: notifications for it wait until its reply is applied. */
interface PendingMonitor {
  buffered: NotifyMessage[];
}

export interface IdlEvents {
  change: [];
  connected: [];
  disconnected: [];
  lock: [boolean];
}

export class Idl extends EventEmitter<IdlEvents> {
  readonly database: string;
  private readonly opts: IdlOptions;
  private readonly logFn: (msg: string) => void;
  private conn: JsonRpcConnection | null = null;
  private live = false;           // the data monitor's initial contents are applied
  private closed = false;
  private _schema: DatabaseSchema | null = null;
  private schemaText = '';        // what the schema came from, to notice _Server changes
  private _replica: Replica | null = null;
  private serverReplica: Replica | null = null;
  private _seqno = 0;
  private _hasLock = false;
  private lastTxnId = ZERO_UUID;
  private monitorMethod: 'monitor' | 'monitor_cond' | 'monitor_cond_since' = 'monitor_cond_since';
  private readonly dataMonid: unknown[];
  private readonly serverMonid: unknown[] = ['monid', SERVER_DB];
  private pendingMonitor: PendingMonitor | null = null;
  private pendingServerMonitor: PendingMonitor | null = null;
  private backoffMs = 0;
  private connecting = false;     // an attempt() is under way
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<Waiter>();
  private readonly inflight = new Set<(r: TransactOutcome) => void>();
  private firstConnect: { promise: Promise<void>; resolve(): void; reject(e: Error): void } | null = null;

  constructor(opts: IdlOptions) {
    super();
    this.opts = opts;
    this.database = opts.database ?? 'Open_vSwitch';
    this.dataMonid = ['monid', this.database];
    this.logFn = opts.log ?? (() => undefined);
  }

  // ------------------------------------------------------------------ public

  /** Connects and resolves once the first full monitor reply is in the replica. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new IdlError('IDL is closed'));
    if (this.live) return Promise.resolve();
    if (!this.firstConnect) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.firstConnect = { promise, resolve, reject };
      if (!this.connecting && !this.conn && !this.reconnectTimer) void this.attempt();
    }
    return this.firstConnect.promise;
  }

  get schema(): DatabaseSchema {
    if (!this._schema) throw new IdlError('IDL has no schema yet (not connected)');
    return this._schema;
  }

  get seqno(): number {
    return this._seqno;
  }

  get hasLock(): boolean {
    return this._hasLock;
  }

  /** True while the session is up and the replica is current. */
  get isConnected(): boolean {
    return this.live;
  }

  /** Rows of a replicated table by uuid (empty for a table of the schema that is not replicated). */
  table(name: string): Map<string, IdlRow> {
    const replica = this.replica;
    const rows = replica.tables.get(name);
    if (rows) return rows;
    replica.tableSchema(name);
    return new Map();
  }

  row(table: string, uuid: string): IdlRow | undefined {
    return this.replica.tables.get(table)?.get(uuid);
  }

  txn(): IdlTxn {
    return new IdlTxnImpl(this.txnHost());
  }

  /** Resolves when `pred()` holds, re-checking after every change; rejects on timeout or lost connection. */
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        if (pred()) {
          resolve();
          return;
        }
      } catch (e) {
        reject(e as Error);
        return;
      }
      if (this.closed) {
        reject(new IdlError('IDL is closed'));
        return;
      }
      const w: Waiter = { pred, resolve, reject, timer: null };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters.delete(w);
          reject(new IdlError(`timed out after ${timeoutMs} ms waiting for the database`));
        }, timeoutMs);
      }
      this.waiters.add(w);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const conn = this.conn;
    this.dropSession();
    conn?.close();
    this.firstConnect?.reject(new IdlError('IDL is closed'));
    this.firstConnect = null;
    this.rejectWaiters(new IdlError('IDL is closed'));
  }

  // --------------------------------------------------------------- internals

  private get replica(): Replica {
    if (!this._replica) throw new IdlError('IDL has no replica yet (not connected)');
    return this._replica;
  }

  private log(msg: string): void {
    this.logFn(`${this.opts.remote}: ${msg}`);
  }

  private txnHost(): TxnHost {
    const replica = this.replica;
    return {
      database: this.database,
      replica,
      precheck: (): TxnResult | null => {
        if (!this.live || this._replica !== replica) return this.lostResult();
        if (this.opts.lock !== undefined && !this._hasLock) return { status: 'not_locked' };
        return null;
      },
      transact: (ops) => this.transact(ops),
    };
  }

  /** What a transaction gets when the session is down: retry if we reconnect, else fail. */
  private lostResult(): TxnResult {
    return this.opts.reconnect && !this.closed
      ? { status: 'try_again' }
      : { status: 'error', error: 'connection failed', details: `${this.opts.remote}: database connection lost`, results: [] };
  }

  private transact(ops: unknown[]): Promise<TransactOutcome> {
    const conn = this.conn;
    if (!conn || !this.live) return Promise.resolve({ kind: 'lost', result: this.lostResult() });
    const all = this.opts.lock !== undefined ? [...ops, { op: 'assert', lock: this.opts.lock }] : ops;
    return new Promise<TransactOutcome>((resolve) => {
      const settle = (r: TransactOutcome): void => {
        if (this.inflight.delete(settle)) resolve(r);
      };
      this.inflight.add(settle);
      conn.request('transact', [this.database, ...all]).then(
        (result) => settle({ kind: 'reply', result }),
        (e: unknown) => {
          if (e instanceof JsonRpcError && e.kind === 'remote') settle({ kind: 'rpc-error', error: e.remoteError });
          else settle({ kind: 'lost', result: this.lostResult() });
        },
      );
    });
  }

  private bump(): void {
    this._seqno++;
    this.emit('change');
    for (const w of [...this.waiters]) {
      let ok: boolean;
      try {
        ok = w.pred();
      } catch (e) {
        this.waiters.delete(w);
        if (w.timer) clearTimeout(w.timer);
        w.reject(e as Error);
        continue;
      }
      if (ok) {
        this.waiters.delete(w);
        if (w.timer) clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  private rejectWaiters(e: Error): void {
    for (const w of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiters.clear();
  }

  private setHasLock(v: boolean): void {
    if (this._hasLock === v) return;
    this._hasLock = v;
    this.emit('lock', v);
  }

  /** One connection attempt: connect, learn the schema, monitor. Failures schedule a retry or fail connect(). */
  private async attempt(): Promise<void> {
    this.reconnectTimer = null;
    if (this.closed || this.connecting) return;
    this.connecting = true;
    try {
      await this.attemptOnce();
    } finally {
      this.connecting = false;
    }
  }

  private async attemptOnce(): Promise<void> {
    let conn: JsonRpcConnection | null = null;
    try {
      const ssl = this.opts.ssl;
      const socket = await connectStream(this.opts.remote, {
        tls: ssl && { privateKey: ssl.key, certificate: ssl.cert, caCert: ssl.ca },
      });
      if (this.closed) {
        socket.destroy();
        return;
      }
      const probe = this.opts.probeIntervalMs ?? (this.opts.remote.startsWith('unix:') ? 0 : 5000);
      const c = new JsonRpcConnection(socket, { name: this.opts.remote, probeIntervalMs: probe });
      conn = c;
      this.conn = c;
      c.on('notify', (m) => this.onNotify(c, m));
      c.on('request', (m) => c.replyError(m.id, 'unknown method'));
      c.on('close', (err) => this.onClose(c, err));
      if (this.opts.lock !== undefined) this.requestLock(c, this.opts.lock);
      await this.sync(c);
      if (this.conn !== c) throw new IdlError('connection closed during startup');
      this.live = true;
      this.backoffMs = 0;
      this.bump();
      this.emit('connected');
      this.firstConnect?.resolve();
      this.firstConnect = null;
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (conn && this.conn === conn) {
        this.dropSession();
        conn.close();
      }
      this.failedAttempt(reason);
    }
  }

  private failedAttempt(reason: string): void {
    if (this.closed) return;
    if (!this.opts.reconnect) {
      this.log(`database connection failed (${reason})`);
      this.firstConnect?.reject(new IdlError(`${this.opts.remote}: database connection failed (${reason})`));
      this.firstConnect = null;
      this.rejectWaiters(new IdlError(`${this.opts.remote}: database connection failed (${reason})`));
      return;
    }
    this.backoffMs = this.backoffMs === 0 ? MIN_BACKOFF_MS : Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 8000);
    this.log(`connection attempt failed (${reason}), waiting ${this.backoffMs / 1000} seconds before reconnect`);
    this.scheduleAttempt(this.backoffMs);
  }

  private scheduleAttempt(ms: number): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => void this.attempt(), ms);
  }

  private requestLock(c: JsonRpcConnection, name: string): void {
    c.request('lock', [name]).then(
      (r) => {
        if (this.conn === c && (r as { locked?: unknown } | null)?.locked === true) this.setHasLock(true);
      },
      (e: unknown) => this.log(`lock request failed: ${(e as Error).message}`),
    );
  }

  /** Learns the schema and sets up the data monitor on a fresh connection. */
  private async sync(c: JsonRpcConnection): Promise<void> {
    let schemaJson: unknown;
    let schemaText: string;
    let viaServer: boolean;
    let serverSchemaJson: unknown;
    this.serverReplica = null;
    try {
      serverSchemaJson = await c.request('get_schema', [SERVER_DB]);
      viaServer = true;
    } catch (e) {
      if (!(e instanceof JsonRpcError && e.kind === 'remote')) throw e;
      viaServer = false;
    }
    let text: string | null = null;
    if (viaServer) {
      const server = new Replica(parseSchema(serverSchemaJson), { Database: SERVER_COLUMNS }, (m) => this.log(m));
      const pending: PendingMonitor = { buffered: [] };
      this.pendingServerMonitor = pending;
      try {
        const reply = await c.request('monitor_cond', [SERVER_DB, this.serverMonid, server.monitorRequests()]);
        server.applyUpdates2(reply);
        this.serverReplica = server;
      } catch (e) {
        // As OVS's client: a server that cannot monitor _Server is asked for the schema directly.
        if (!(e instanceof JsonRpcError && e.kind === 'remote')) throw e;
        viaServer = false;
      }
      this.pendingServerMonitor = null;
      if (viaServer) {
        for (const m of pending.buffered) this.onNotify(c, m);
        text = this.serverSchemaText(server);
        if (text === null) throw new IdlError(`server does not have ${this.database} database`);
        if (text === '') throw new IdlError(`${this.database} database has no schema in _Server (missing database schema)`);
      }
    }
    if (text !== null) {
      schemaText = text;
      schemaJson = JSON.parse(text);
    } else {
      this.serverReplica = null;
      schemaJson = await c.request('get_schema', [this.database]);
      schemaText = JSON.stringify(schemaJson);
    }

    if (!this._schema || schemaText !== this.schemaText) {
      const schema = parseSchema(schemaJson);
      if (schema.name !== this.database) throw new IdlError(`server sent schema of ${schema.name}, not ${this.database}`);
      this._replica = new Replica(schema, this.opts.tables, (m) => this.log(m));
      this._schema = schema;
      this.schemaText = schemaText;
      this.lastTxnId = ZERO_UUID;
    }
    const replica = this._replica!;

    const methods = viaServer
      ? (['monitor_cond_since', 'monitor_cond', 'monitor'] as const)
      : (['monitor_cond', 'monitor'] as const);
    const requests = replica.monitorRequests();
    for (const method of methods) {
      const pending: PendingMonitor = { buffered: [] };
      this.pendingMonitor = pending;
      let reply: unknown;
      try {
        const params = method === 'monitor_cond_since'
          ? [this.database, this.dataMonid, requests, this.lastTxnId]
          : [this.database, this.dataMonid, requests];
        const replyPromise = c.request(method, params);
        if (viaServer && this.opts.reconnect && method === methods[0]) {
          // Long-lived clients ask to be told about schema changes instead of being dropped
          // (sent right behind the first monitor request, as OVS does).
          c.request('set_db_change_aware', [true]).catch(() => undefined);
        }
        reply = await replyPromise;
      } catch (e) {
        this.pendingMonitor = null;
        // OVS's C client falls back on any error reply.
        if (e instanceof JsonRpcError && e.kind === 'remote' && method !== 'monitor') {
          this.log(`${method} failed (${e.message}), falling back`);
          continue;
        }
        throw e;
      }
      this.monitorMethod = method;
      if (method === 'monitor_cond_since') {
        const [found, lastId, updates] = Array.isArray(reply) ? reply : [];
        if (found !== true) replica.clear();
        if (typeof lastId === 'string') this.lastTxnId = lastId;
        replica.applyUpdates2(updates);
      } else {
        replica.clear();
        if (method === 'monitor_cond') replica.applyUpdates2(reply);
        else replica.applyUpdates1(reply);
      }
      this.pendingMonitor = null;
      for (const m of pending.buffered) this.onNotify(c, m);
      return;
    }
  }

  /** The schema string of our database's _Server row; null if there is no row. */
  private serverSchemaText(server: Replica): string | null {
    for (const row of server.tables.get('Database')?.values() ?? []) {
      if (row.get('name').keys[0] === this.database) return (row.get('schema').keys[0] as string | undefined) ?? '';
    }
    return null;
  }

  private onNotify(c: JsonRpcConnection, m: NotifyMessage): void {
    if (c !== this.conn) return;
    const p = m.params;
    const monid = JSON.stringify(p[0]);
    switch (m.method) {
      case 'update':
      case 'update2':
      case 'update3': {
        if (monid === JSON.stringify(this.serverMonid)) {
          if (this.pendingServerMonitor) {
            this.pendingServerMonitor.buffered.push(m);
          } else if (this.serverReplica && m.method === 'update2') {
            this.serverReplica.applyUpdates2(p[1]);
            this.checkServerDb(c);
          }
          return;
        }
        if (monid !== JSON.stringify(this.dataMonid)) return;
        if (this.pendingMonitor) {
          this.pendingMonitor.buffered.push(m);
          return;
        }
        const replica = this._replica;
        if (!replica) return;
        let changed: boolean;
        if (m.method === 'update') {
          changed = replica.applyUpdates1(p[1]);
        } else if (m.method === 'update2') {
          changed = replica.applyUpdates2(p[1]);
        } else {
          if (typeof p[1] === 'string') this.lastTxnId = p[1];
          changed = replica.applyUpdates2(p[2]);
        }
        if (changed && this.live) this.bump();
        return;
      }
      case 'locked':
        if (p[0] === this.opts.lock) this.setHasLock(true);
        return;
      case 'stolen':
        if (p[0] === this.opts.lock) this.setHasLock(false);
        return;
      case 'monitor_canceled':
        // The database was converted or removed: start over with its new schema.
        this.log(`server canceled monitor ${monid}, reconnecting`);
        c.close();
        return;
      default:
        return;
    }
  }

  /** Reconnects when our database's _Server row disappears or its schema changes. */
  private checkServerDb(c: JsonRpcConnection): void {
    if (!this.live || !this.serverReplica) return;
    const text = this.serverSchemaText(this.serverReplica);
    if (text === this.schemaText) return;
    this.log(text === null ? `database ${this.database} disappeared from the server` : `schema of ${this.database} changed`);
    c.close();
  }

  /** Forgets per-connection state; pending transactions learn the outcome of a lost session. */
  private dropSession(): void {
    this.conn = null;
    this.pendingMonitor = null;
    this.pendingServerMonitor = null;
    const wasLive = this.live;
    this.live = false;
    this.setHasLock(false);
    for (const settle of [...this.inflight]) settle({ kind: 'lost', result: this.lostResult() });
    if (wasLive) this.emit('disconnected');
  }

  private onClose(c: JsonRpcConnection, err: JsonRpcError | null): void {
    if (c !== this.conn) return;
    const wasLive = this.live;
    this.dropSession();
    if (this.closed) return;
    if (!wasLive) return;   // a failure during startup: attempt() handles it
    this.log(`connection ${err ? `dropped (${err.message})` : 'closed by peer'}`);
    if (this.opts.reconnect) {
      this.scheduleAttempt(0);
    } else {
      this.rejectWaiters(new IdlError(`${this.opts.remote}: database connection lost`));
    }
  }

  /** Which monitor flavour the current session uses (for tests and logs). */
  get monitorVersion(): 'monitor' | 'monitor_cond' | 'monitor_cond_since' {
    return this.monitorMethod;
  }
}

// A controller connection that survives its streams (OVS's rconn). Active
// targets (tcp:, ssl:, unix:) reconnect with exponential backoff up to
// max_backoff; accepted streams (from ptcp:/pssl:/punix: services) are
// "unreliable": once closed they stay closed. While connected, inactivity
// probes run: after probe_interval without hearing from the peer an
// ECHO_REQUEST goes out, and another probe_interval of silence drops the
// connection. Every message sent or received is copied raw to the snoopers
// attached to it.
//
// States and their names are OVS's, since they appear in Controller.status:
// VOID, BACKOFF, CONNECTING, ACTIVE, IDLE, DISCONNECTED.

import type * as net from 'node:net';
import { encodeMessage } from '../openflow/index.js';
import { connectStream, type TlsFiles } from '../lib/stream.js';
import { Level, VlogRateLimit, vlogModule } from '../lib/vlog.js';
import { Vconn, errorText, newXid } from './conn-vconn.js';

const log = vlogModule('rconn');
const DROPPED_LOG = new VlogRateLimit(20, 20);

/** The IANA OpenFlow port, the default for tcp:/ssl: controllers without one. */
export const OFP_PORT = 6653;

export type RconnState = 'VOID' | 'BACKOFF' | 'CONNECTING' | 'ACTIVE' | 'IDLE' | 'DISCONNECTED';

export interface RconnOptions {
  /** Inactivity probe interval in ms; 0 disables probing. */
  probeInterval: number;
  /** Longest wait between reconnection attempts, in ms (OVS default 8 s). */
  maxBackoff: number;
  /** Allowed OpenFlow versions (bit v = wire version v). */
  allowedVersions: number;
  tls?: TlsFiles;
}

export interface RconnHandler {
  /** A stream finished version negotiation. */
  connected(rc: Rconn): void;
  /** A message arrived (already copied to snoopers). */
  message(rc: Rconn, raw: Uint8Array): void;
  /** The stream was lost (a reliable rconn will try again by itself; an accepted one is over, connected or not). */
  disconnected(rc: Rconn): void;
}

/** Something that wants raw copies of the traffic (a snoop connection). */
export interface Monitor {
  copy(bytes: Uint8Array): void;
  readonly isClosed: boolean;
}

/** At most this many snoopers per connection, as OVS. */
const MAX_MONITORS = 8;

export const now = (): number => performance.now();

export class Rconn {
  state: RconnState = 'VOID';
  private stateEntered = now();
  private vconn: Vconn | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Bumped for every connection attempt, so a late connect from an abandoned attempt is thrown away. */
  private attempt = 0;
  private backoff = 0;
  private backoffDeadline = -Infinity;
  private lastActivity = now();
  /** When the current or last connection was established (null: never). */
  lastConnected: number | null = null;
  lastDisconnected: number | null = null;
  /** Why the last connection ended; null when it has not failed yet. */
  lastError: string | null = null;
  /** OVS's admission guess: the peer sent something past the handshake phase. */
  private probablyAdmitted = false;
  private lastAdmitted = now();
  private monitors: Monitor[] = [];
  private destroyed = false;

  private constructor(
    readonly target: string,
    public name: string,
    readonly reliable: boolean,
    private opts: RconnOptions,
    private readonly handler: RconnHandler,
  ) {}

  /** An active connection to `target` that reconnects forever. */
  static connect(target: string, name: string, opts: RconnOptions, handler: RconnHandler): Rconn {
    const rc = new Rconn(target, name, true, opts, handler);
    rc.reconnect();
    return rc;
  }

  /** A connection accepted by a passive service: no reconnection. */
  static accepted(socket: net.Socket, name: string, opts: RconnOptions, handler: RconnHandler): Rconn {
    const rc = new Rconn(name, name, false, opts, handler);
    rc.transition('CONNECTING');
    rc.attach(socket);
    return rc;
  }

  get version(): number {
    return this.vconn?.version ?? -1;
  }

  get isConnected(): boolean {
    return this.state === 'ACTIVE' || this.state === 'IDLE';
  }

  /** Connected or still trying to be. */
  get isAlive(): boolean {
    return this.state !== 'VOID' && this.state !== 'DISCONNECTED';
  }

  /** Connected and believed accepted by the controller. */
  get isAdmitted(): boolean {
    return this.isConnected && this.lastConnected !== null && this.lastAdmitted >= this.lastConnected;
  }

  /** Seconds since the controller last accepted us (0 while it does). */
  failureDuration(): number {
    return this.isAdmitted ? 0 : Math.floor((now() - this.lastAdmitted) / 1000);
  }

  get unsentBytes(): number {
    return this.vconn?.unsentBytes ?? 0;
  }

  reconfigure(opts: RconnOptions): void {
    const old = this.opts;
    this.opts = opts;
    if (this.state === 'BACKOFF' && this.backoff > opts.maxBackoff) {
      this.backoff = opts.maxBackoff;
      this.backoffDeadline = Math.min(this.backoffDeadline, now() + opts.maxBackoff);
    }
    if (old.probeInterval !== opts.probeInterval || old.maxBackoff !== opts.maxBackoff) this.arm();
  }

  /**
   * Sends raw message bytes while connected (copied to snoopers); false when
   * not connected. `onSent` runs once the kernel took them.
   */
  send(bytes: Uint8Array, onSent?: () => void): boolean {
    if (!this.isConnected || !this.vconn) return false;
    this.copyToMonitors(bytes);
    return this.vconn.write(bytes, () => {
      this.lastActivity = now();
      onSent?.();
    });
  }

  addMonitor(m: Monitor): boolean {
    this.monitors = this.monitors.filter((x) => !x.isClosed);
    if (this.monitors.length >= MAX_MONITORS) return false;
    this.monitors.push(m);
    return true;
  }

  /** Drops the current stream (a reliable rconn reconnects after backoff). */
  reconnectNow(): void {
    if (this.isConnected) {
      log.info(`${this.name}: disconnecting`);
      this.disconnect(null);
    }
  }

  /** Stops for good: closes the stream, cancels timers. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.attempt++;
    this.clearTimer();
    const v = this.vconn;
    this.vconn = null;
    const wasConnected = this.isConnected;
    this.state = 'VOID';
    v?.close();
    if (wasConnected || !this.reliable) this.handler.disconnected(this);
  }

  // ------------------------------------------------------------ state machine

  private transition(state: RconnState): void {
    log.dbg(`${this.name}: entering ${state}`);
    const wasConnected = this.isConnected;
    this.state = state;
    this.stateEntered = now();
    if (this.isConnected && !wasConnected) this.probablyAdmitted = false;
    this.arm();
  }

  /** ms after stateEntered when the current state times out (Infinity: never). */
  private timeout(): number {
    switch (this.state) {
      case 'BACKOFF': return this.backoff;
      case 'CONNECTING': return Math.max(1000, this.backoff);
      case 'ACTIVE':
        return this.opts.probeInterval ? Math.max(this.lastActivity, this.stateEntered) + this.opts.probeInterval - this.stateEntered : Infinity;
      case 'IDLE': return this.opts.probeInterval || Infinity;
      default: return Infinity;
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.clearTimer();
    if (this.destroyed) return;
    const t = this.timeout();
    if (t === Infinity) return;
    const delay = Math.max(0, this.stateEntered + t - now());
    this.timer = setTimeout(() => this.run(), Math.ceil(delay));
    this.timer.unref?.();
  }

  private run(): void {
    this.timer = null;
    if (this.destroyed) return;
    if (now() < this.stateEntered + this.timeout() - 1) {
      this.arm();   // activity moved the deadline
      return;
    }
    switch (this.state) {
      case 'BACKOFF':
        this.reconnect();
        return;
      case 'CONNECTING':
        log.info(`${this.name}: connection timed out`);
        this.backoffDeadline = Infinity;   // keep backing off
        this.disconnect('ETIMEDOUT');
        return;
      case 'ACTIVE': {
        log.dbg(`${this.name}: idle ${Math.round((now() - Math.max(this.lastActivity, this.stateEntered)) / 1000)} seconds, sending inactivity probe`);
        this.transition('IDLE');
        const v = this.version;
        this.send(encodeMessage({ version: v, xid: newXid(), kind: 'ECHO_REQUEST', body: { data: new Uint8Array(0) } }));
        return;
      }
      case 'IDLE':
        log.err(`${this.name}: no response to inactivity probe after ${Math.round((now() - this.stateEntered) / 1000)} seconds, disconnecting`);
        this.disconnect('ETIMEDOUT');
        return;
      default:
        return;
    }
  }

  private reconnect(): void {
    if (this.backoff < this.opts.maxBackoff) log.info(`${this.name}: connecting...`);
    const attempt = ++this.attempt;
    this.backoffDeadline = now() + this.backoff;
    this.transition('CONNECTING');
    connectStream(this.target, { defaultPort: OFP_PORT, ...(this.opts.tls ? { tls: this.opts.tls } : {}) }).then(
      (socket) => {
        if (attempt !== this.attempt || this.destroyed) {
          socket.destroy();
          return;
        }
        this.attach(socket);
      },
      (e: unknown) => {
        if (attempt !== this.attempt || this.destroyed) return;
        if (this.backoff < this.opts.maxBackoff) log.info(`${this.name}: connection failed (${errorText(e)})`);
        this.disconnect(errorText(e));
      },
    );
  }

  private attach(socket: net.Socket): void {
    const attempt = this.attempt;
    const v = new Vconn(socket, this.opts.allowedVersions, {
      connected: () => {
        if (this.vconn !== v) return;
        log[this.reliable ? 'info' : 'dbg'](`${this.name}: connected`);
        this.transition('ACTIVE');
        this.lastConnected = this.stateEntered;
        this.lastActivity = now();
        this.handler.connected(this);
      },
      message: (raw) => {
        if (this.vconn !== v) return;
        this.copyToMonitors(raw);
        const t = now();
        if (this.probablyAdmitted || isAdmittedType(raw) || t - (this.lastConnected ?? t) >= 30_000) {
          this.probablyAdmitted = true;
          this.lastAdmitted = t;
        }
        this.lastActivity = t;
        if (this.state === 'IDLE') this.transition('ACTIVE');
        this.handler.message(this, raw);
      },
      closed: (error) => {
        if (this.vconn !== v || attempt !== this.attempt) return;
        if (error === 'EOF') log[this.reliable ? 'info' : 'dbg'](`${this.name}: connection closed by peer`);
        else if (this.reliable) log.warn(`${this.name}: connection dropped (${error})`);
        // Accepted connections come and go at a peer's whim: their failures share one limit so no peer can fill the log.
        else DROPPED_LOG.log(log, Level.WARN, `${this.name}: connection dropped (${error})`);
        this.disconnect(error === 'EOF' ? 'End of file' : error);
      },
    }, this.name);
    this.vconn = v;
  }

  /** Loses the stream; `error` null means we chose to (no last_error). */
  private disconnect(error: string | null): void {
    if (error !== null) this.lastError = errorText(error);
    const wasConnected = this.isConnected;
    const v = this.vconn;
    this.vconn = null;
    this.attempt++;
    v?.close();
    const t = now();
    if (this.reliable) {
      if (this.state === 'CONNECTING' || wasConnected) this.lastDisconnected = t;
      if (t >= this.backoffDeadline) {
        this.backoff = 1000;
      } else if (this.backoff < this.opts.maxBackoff / 2) {
        this.backoff = Math.max(1000, 2 * this.backoff);
        log.info(`${this.name}: waiting ${this.backoff / 1000} seconds before reconnect`);
      } else {
        if (this.backoff < this.opts.maxBackoff) {
          log.info(`${this.name}: continuing to retry connections in the background but suppressing further logging`);
        }
        this.backoff = this.opts.maxBackoff;
      }
      this.backoffDeadline = t + this.backoff;
      this.transition('BACKOFF');
    } else {
      this.lastDisconnected = t;
      this.transition('DISCONNECTED');
    }
    // An accepted stream is finished either way; its owner forgets it.
    if (wasConnected || !this.reliable) this.handler.disconnected(this);
  }

  private copyToMonitors(bytes: Uint8Array): void {
    if (!this.monitors.length) return;
    this.monitors = this.monitors.filter((m) => !m.isClosed);
    for (const m of this.monitors) m.copy(bytes);
  }
}

/**
 * Whether a message from the controller shows it has accepted the switch
 * (OVS's is_admitted_msg): anything but the handshake-phase questions.
 */
function isAdmittedType(raw: Uint8Array): boolean {
  const v = raw[0]!;
  const t = raw[1]!;
  // HELLO, ERROR, ECHO_*, FEATURES_*, GET_CONFIG_*, SET_CONFIG (0-9 in every version).
  if (t <= 9 && t !== 4) return false;
  if (v === 1) {
    // OF1.0 QUEUE_GET_CONFIG request/reply.
    return t !== 20 && t !== 21;
  }
  // OF1.3+: QUEUE_GET_CONFIG (22, 23), GET_ASYNC request/reply (26, 27).
  if (t === 22 || t === 23 || t === 26 || t === 27) return false;
  if (t === 18 || t === 19) {
    // GROUP, GROUP_DESC, GROUP_FEATURES, TABLE_FEATURES and TABLE_DESC statistics.
    const mp = raw.length >= 10 ? (raw[8]! << 8) | raw[9]! : -1;
    return ![6, 7, 8, 12, 14].includes(mp);
  }
  return true;
}

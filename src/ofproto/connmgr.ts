// The connection manager of one bridge (OVS's connmgr): its controllers and
// services, the management socket RUNDIR/<bridge>.mgmt, snoopers on
// RUNDIR/<bridge>.snoop, master/slave election, delivery of packet-ins and
// other asynchronous messages, and fail-open in standalone mode.

import type * as net from 'node:net';
import { join } from 'node:path';
import { listenStream, type StreamListener, type TlsFiles } from '../lib/stream.js';
import { vlogModule } from '../lib/vlog.js';
import type { Match, OfMessage } from '../openflow/index.js';
import { OAM, PIN_REASON } from './conn-async.js';
import { bogusRarp, type PacketInData } from './conn-packet-in.js';
import { Service, serviceSettings, type ControllerConfig, type ServiceEvents } from './conn-service.js';
import { Snooper } from './conn-snoop.js';
import { OfConnection, type ConnOwner, type OfConn, type OfprotoHooks } from './ofconn.js';
import { now } from './rconn.js';

export type { OfConn, OfprotoHooks, OfConnRole, FlowFormat } from './ofconn.js';
export type { ControllerConfig } from './conn-service.js';
export type { PacketInFormat } from './conn-packet-in.js';

const log = vlogModule('connmgr');

/** Bridge.protocols when empty: OpenFlow 1.0 through 1.5. */
const DEFAULT_VERSIONS = 0x7e;

export interface PacketInInfo {
  reason: 'no_match' | 'action' | 'invalid_ttl' | 'action_set' | 'group' | 'packet_out';
  /** Sent by a table-miss flow (priority 0, match all): reported as no_match to OF1.3+ and as action to OF1.0. */
  explicitMiss?: boolean;
  tableId: number;
  cookie: bigint;
  /** Pipeline fields: in_port, metadata, regs, tunnel, pkt_mark... */
  metadata: Match;
  frame: Uint8Array;
  /**
   * From the controller action, or 0xffff. Like OVS, which buffers nothing,
   * the whole frame is always sent; this is kept for the record.
   */
  maxLen: number;
  /** Only connections whose controller id (NXT_SET_CONTROLLER_ID, default 0) equals this get it. */
  controllerId: number;
  userdata?: Uint8Array;
}

export interface ConnmgrOptions {
  bridge: string;
  rundir: string;
  hooks: OfprotoHooks;
  datapathId: () => bigint;
  pki?: { privateKey: string; certificate: string; caCert: string };
  /** Shortest inactivity probe interval in ms (OVS: 5 s); tests lower it. */
  minProbeInterval?: number;
}

export interface ControllerStatus {
  target: string;
  isConnected: boolean;
  role: 'other' | 'master' | 'slave';
  status: Record<string, string>;
}

const PIN_REASONS: Readonly<Record<PacketInInfo['reason'], number>> = {
  no_match: PIN_REASON.NO_MATCH, action: PIN_REASON.ACTION, invalid_ttl: PIN_REASON.INVALID_TTL,
  action_set: PIN_REASON.ACTION_SET, group: PIN_REASON.GROUP, packet_out: PIN_REASON.PACKET_OUT,
};
const ASYNC_TYPES = { PORT_STATUS: OAM.PORT_STATUS, FLOW_REMOVED: OAM.FLOW_REMOVED, TABLE_STATUS: OAM.TABLE_STATUS, REQUESTFORWARD: OAM.REQUESTFORWARD } as const;
/** OFPRFR_METER_MOD: OpenFlow 1.0 connections cannot be told about meters. */
const RFR_METER_MOD = 1;

export class Connmgr implements ConnOwner {
  readonly bridge: string;
  readonly rundir: string;
  readonly hooks: OfprotoHooks;
  readonly datapathId: () => bigint;
  /** Switch-wide OFPC_FRAG_* handling, set by SET_CONFIG. */
  fragHandling = 0;
  private readonly minProbe: number;
  private tlsFiles: TlsFiles | undefined;
  private allowed = DEFAULT_VERSIONS;
  private failMode: 'secure' | 'standalone' = 'standalone';
  /** Configured controllers by target (primary and service), plus the management service. */
  private readonly services = new Map<string, Service>();
  private mgmt: Service | null = null;
  private snoopListener: StreamListener | null = null;
  private readonly snoopers = new Set<Snooper>();
  private readonly conns = new Set<OfConnection>();
  private election: bigint | undefined;
  private readonly releaseTimers = new Map<OfConnection, NodeJS.Timeout>();
  private failOpen = false;
  private failOpenTimer: NodeJS.Timeout | null = null;
  private nextBogus = Infinity;
  private started = false;
  private closing = false;
  private readonly events: ServiceEvents;

  constructor(opts: ConnmgrOptions) {
    this.bridge = opts.bridge;
    this.rundir = opts.rundir;
    this.hooks = opts.hooks;
    this.datapathId = opts.datapathId;
    this.minProbe = opts.minProbeInterval ?? 5000;
    this.tlsFiles = opts.pki ? { privateKey: opts.pki.privateKey, certificate: opts.pki.certificate, caCert: opts.pki.caCert } : undefined;
    this.events = {
      owner: this,
      bridge: this.bridge,
      allowedVersions: () => this.allowed,
      tls: () => this.tlsFiles,
      opened: (c) => this.conns.add(c),
      message: (c, raw) => c.receive(raw),
      closed: (c) => this.connClosed(c),
    };
  }

  /** Path of the management socket ovs-ofctl finds by bridge name. */
  get mgmtPath(): string {
    return join(this.rundir, `${this.bridge}.mgmt`);
  }

  get snoopPath(): string {
    return join(this.rundir, `${this.bridge}.snoop`);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.mgmt = new Service(`punix:${this.mgmtPath}`, {
      type: 'service', probeSecs: 60, probeMs: 60_000, maxBackoff: 8000, enableAsyncMessages: true, rateLimit: 0, burstLimit: 0,
    }, this.events);
    await this.mgmt.ready;
    try {
      this.snoopListener = await listenStream(`punix:${this.snoopPath}`, (s) => this.addSnooper(s));
    } catch (e) {
      log.err(`${this.bridge}: failed to listen on punix:${this.snoopPath}: ${(e as Error).message}`);
    }
    await Promise.all([...this.services.values()].map((s) => s.ready));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.stopFailOpen();
    for (const t of this.releaseTimers.values()) clearTimeout(t);
    this.releaseTimers.clear();
    for (const s of this.snoopers) s.close();
    this.snoopers.clear();
    const all = [...this.services.values(), ...(this.mgmt ? [this.mgmt] : [])];
    this.services.clear();
    this.mgmt = null;
    await Promise.all(all.map((s) => s.destroy()));
    const l = this.snoopListener;
    this.snoopListener = null;
    if (l) await l.close();
  }

  // ------------------------------------------------------------ configuration

  /** The key, certificate and CA certificate for ssl:/pssl: targets (the database's SSL table); takes effect on the next connection. */
  setPki(pki: ConnmgrOptions['pki'] | undefined): void {
    this.tlsFiles = pki ? { privateKey: pki.privateKey, certificate: pki.certificate, caCert: pki.caCert } : undefined;
  }

  /** Makes the configured controllers these (same target: kept, connection not dropped). */
  setControllers(list: ControllerConfig[]): void {
    const wanted = new Map<string, ControllerConfig>();
    for (const c of list) {
      if (!/^(tcp|ssl|unix|ptcp|pssl|punix):/.test(c.target)) {
        log.warn(`${this.bridge}: unsupported controller "${c.target}"`);
        continue;
      }
      if ((c.target.startsWith('ssl:') || c.target.startsWith('pssl:')) && !this.tlsFiles) {
        log.err(`${this.bridge}: controller "${c.target}" needs SSL keys (private key, certificate, CA certificate)`);
        continue;
      }
      wanted.set(c.target, c);
    }
    for (const [target, svc] of this.services) {
      if (!wanted.has(target)) {
        log.info(`${this.bridge}: removed ${svc.settings.type} controller "${target}"`);
        this.services.delete(target);
        void svc.destroy();
      }
    }
    for (const [target, c] of wanted) {
      const settings = serviceSettings(c, this.minProbe);
      const svc = this.services.get(target);
      if (svc) {
        if (svc.settings.type !== settings.type) {
          // A change of kind needs a fresh service, as OVS re-initializes it.
          this.services.delete(target);
          void svc.destroy();
        } else {
          svc.reconfigure(settings);
          continue;
        }
      }
      this.services.set(target, new Service(target, settings, this.events));
      log.info(`${this.bridge}: added ${settings.type} controller "${target}"`);
    }
    this.updateFailOpen();
  }

  setFailMode(mode: 'secure' | 'standalone'): void {
    if (mode === this.failMode) return;
    this.failMode = mode;
    this.updateFailOpen();
  }

  /** Bridge.protocols as a bitmap (bit v = wire version v). Existing connections are dropped and renegotiate. */
  setAllowedVersions(bitmap: number): void {
    const b = (bitmap || DEFAULT_VERSIONS) >>> 0;
    if (b === this.allowed) return;
    this.allowed = b;
    for (const s of [...this.services.values(), ...(this.mgmt ? [this.mgmt] : [])]) {
      s.reconfigure(s.settings);
      s.dropAll();
    }
  }

  /** Whether any primary controller is configured (connected or not), as OVS's connmgr_has_controllers. */
  hasControllers(): boolean {
    for (const s of this.services.values()) if (s.settings.type === 'primary') return true;
    return false;
  }

  isFailOpen(): boolean {
    return this.failOpen;
  }

  /** Negotiated connections: controllers and services (the core's view). */
  connections(): OfConn[] {
    return [...this.conns];
  }

  /** Whether some connection wants implicit table-miss packet-ins (an OpenFlow < 1.3 one with controller id 0). */
  wantsPacketInOnMiss(): boolean {
    for (const c of this.conns) if (c.isConnected && c.version < 4 && c.controllerId === 0) return true;
    return false;
  }

  /** The bound name of a passive controller ("ptcp:41234:127.0.0.1"), for tests and status. */
  boundName(target: string): string | null {
    return this.services.get(target)?.boundName ?? null;
  }

  /** Resolves when every passive controller listens. */
  async ready(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.ready));
  }

  controllerStatus(): ControllerStatus[] {
    const out: ControllerStatus[] = [];
    const t = now();
    for (const s of this.services.values()) {
      const rc = s.rconn;
      if (!rc) continue;
      const conn = [...s.conns][0];
      const status: Record<string, string> = {};
      if (rc.lastError) status.last_error = rc.lastError;
      status.state = rc.state;
      if (rc.lastConnected !== null) status.sec_since_connect = String(Math.floor((t - rc.lastConnected) / 1000));
      if (rc.lastDisconnected !== null) status.sec_since_disconnect = String(Math.floor((t - rc.lastDisconnected) / 1000));
      conn?.schedulers?.forEach((ps, i) => {
        const name = i ? 'miss' : 'action';
        const st = ps.stats();
        status[`packet-in-${name}-backlog`] = String(st.queued);
        status[`packet-in-${name}-bypassed`] = String(st.bypassed);
        status[`packet-in-${name}-queued`] = String(st.limited);
        status[`packet-in-${name}-dropped`] = String(st.dropped);
      });
      const role = !conn || conn.role === 'equal' ? 'other' : conn.role;
      out.push({ target: s.target, isConnected: rc.isConnected, role, status });
    }
    return out;
  }

  // ------------------------------------------------------------ asynchronous messages

  sendPacketIn(pin: PacketInInfo): void {
    let reason = PIN_REASONS[pin.reason];
    if (reason === PIN_REASON.NO_MATCH) reason = pin.explicitMiss ? PIN_REASON.EXPLICIT_MISS : PIN_REASON.IMPLICIT_MISS;
    else if (reason === PIN_REASON.ACTION && pin.explicitMiss) reason = PIN_REASON.EXPLICIT_MISS;
    const data: PacketInData = { reason, tableId: pin.tableId, cookie: pin.cookie, metadata: pin.metadata, frame: pin.frame, ...(pin.userdata ? { userdata: pin.userdata } : {}) };
    this.deliverPacketIn(data, pin.controllerId);
  }

  private deliverPacketIn(data: PacketInData, controllerId: number): void {
    const isMiss = data.reason === PIN_REASON.NO_MATCH || data.reason === PIN_REASON.EXPLICIT_MISS || data.reason === PIN_REASON.IMPLICIT_MISS;
    for (const c of this.conns) {
      if (c.controllerId !== controllerId || !c.receivesAsync(OAM.PACKET_IN, data.reason)) continue;
      c.sendPacketIn(data, isMiss);
    }
  }

  /**
   * Sends an asynchronous message to every connection that wants this
   * reason, built for each by `build` (null: nothing for that connection).
   * `except` is the connection whose request caused it: it does not hear
   * about its own PORT_MOD before OpenFlow 1.5, nor its own GROUP_MOD /
   * METER_MOD as REQUESTFORWARD; other kinds skip it always.
   */
  sendAsync(kind: 'PORT_STATUS' | 'FLOW_REMOVED' | 'TABLE_STATUS' | 'REQUESTFORWARD', reason: number,
    build: (conn: OfConn) => OfMessage | null, except?: OfConn): void {
    const oam = ASYNC_TYPES[kind];
    for (const c of this.conns) {
      if (c === except && !(kind === 'PORT_STATUS' && c.version >= 6)) continue;
      if (kind === 'REQUESTFORWARD' && reason === RFR_METER_MOD && c.version < 4) continue;
      if (!c.receivesAsync(oam, reason)) continue;
      let msg: OfMessage | null;
      try {
        msg = build(c);
        if (msg) c.send(msg);
      } catch (e) {
        log.warn(`${c.name}: cannot send ${kind}: ${(e as Error).message}`);
      }
    }
  }

  // ------------------------------------------------------------ ConnOwner

  setElectionId(id: bigint): boolean {
    if (this.election !== undefined && BigInt.asIntN(64, id - this.election) < 0n) return false;
    this.election = BigInt.asUintN(64, id);
    return true;
  }

  electionId(): bigint | undefined {
    return this.election;
  }

  demoteOtherMasters(conn: OfConnection): void {
    for (const c of this.conns) {
      if (c !== conn && c.role === 'master') {
        c.role = 'slave';
        c.sendRoleStatus('slave', 0 /* OFPCRR_PRIMARY_REQUEST */, this.election);
      }
    }
  }

  messageReceived(_conn: OfConnection): void {
    if (this.failOpen && this.anyAdmitted()) this.setFailOpen(false);
  }

  scheduleRelease(conn: OfConnection): void {
    if (this.releaseTimers.has(conn) || this.closing) return;
    const wake = conn.releasePacketIns();
    if (wake === null) return;
    const t = setTimeout(() => {
      this.releaseTimers.delete(conn);
      if (conn.isConnected) this.scheduleRelease(conn);
    }, Math.max(1, wake));
    t.unref?.();
    this.releaseTimers.set(conn, t);
  }

  // ------------------------------------------------------------ connections and snoopers

  private connClosed(c: OfConnection): void {
    this.conns.delete(c);
    const t = this.releaseTimers.get(c);
    if (t) clearTimeout(t);
    this.releaseTimers.delete(c);
    try {
      this.hooks.connectionClosed(c);
    } catch (e) {
      log.err(`${c.name}: connectionClosed failed: ${(e as Error).message}`);
    }
  }

  /** A snoop connection mirrors the most important active controller: master, then equal, then slave. */
  private addSnooper(socket: net.Socket): void {
    const pref = (s: Service): number => {
      const c = [...s.conns][0];
      return !c ? 0 : c.role === 'master' ? 3 : c.role === 'equal' ? 2 : 1;
    };
    let best: Service | null = null;
    for (const s of this.services.values()) {
      if (s.rconn && (!best || pref(s) > pref(best))) best = s;
    }
    if (!best?.rconn) {
      log.info(`${this.bridge}: no controller connection to snoop`);
      socket.destroy();
      return;
    }
    const snooper = new Snooper(socket, DEFAULT_VERSIONS, () => this.snoopers.delete(snooper));
    if (!best.rconn.addMonitor(snooper)) {
      log.dbg(`${this.bridge}: too many monitor connections, discarding one`);
      snooper.close();
      return;
    }
    log.info(`${this.bridge}: new monitor connection to ${best.target}`);
    this.snoopers.add(snooper);
  }

  // ------------------------------------------------------------ fail-open

  /** Fail-open watches only in standalone mode with primary controllers configured (OVS's update_fail_open). */
  private updateFailOpen(): void {
    const wanted = this.failMode === 'standalone' && this.hasControllers() && !this.closing;
    if (wanted && !this.failOpenTimer) {
      this.failOpenTimer = setInterval(() => this.runFailOpen(), 1000);
      this.failOpenTimer.unref?.();
    } else if (!wanted) {
      this.stopFailOpen();
    }
  }

  private stopFailOpen(): void {
    if (this.failOpenTimer) clearInterval(this.failOpenTimer);
    this.failOpenTimer = null;
    this.nextBogus = Infinity;
    if (this.failOpen) this.setFailOpen(false);
  }

  private setFailOpen(active: boolean): void {
    this.failOpen = active;
    if (active) log.warn(`${this.bridge}: could not connect to controller for ${this.failureDuration()} seconds, failing open`);
    else log.warn(`${this.bridge}: no longer in fail-open mode`);
    this.nextBogus = Infinity;
    try {
      this.hooks.failOpenChanged(active);
    } catch (e) {
      log.err(`${this.bridge}: failOpenChanged failed: ${(e as Error).message}`);
    }
  }

  /** Seconds every active primary controller has gone without accepting us (0: one does, or none is active). */
  private failureDuration(): number {
    let min = Infinity;
    for (const s of this.services.values()) {
      if (s.settings.type === 'primary' && s.rconn) min = Math.min(min, s.rconn.failureDuration());
    }
    return min === Infinity ? 0 : min;
  }

  /** Every controller gets a probe interval to probe, one to answer and one to reconnect. */
  private triggerDuration(): number {
    let max = 0;
    for (const s of this.services.values()) if (s.settings.type === 'primary') max = Math.max(max, s.settings.probeSecs);
    return max * 3;
  }

  private anyAdmitted(): boolean {
    for (const s of this.services.values()) {
      if (s.settings.type !== 'primary') continue;
      if (s.rconn?.isAdmitted) return true;
    }
    for (const c of this.conns) if (c.type === 'primary' && c.rconn.isAdmitted) return true;
    return false;
  }

  private runFailOpen(): void {
    const secs = this.failureDuration();
    if (!this.failOpen && secs > 0 && secs >= this.triggerDuration()) this.setFailOpen(true);
    if (!this.failOpen) return;
    // While failed open but connected (not yet accepted), show the controller we are alive every 2 s.
    const connected = [...this.conns].some((c) => c.type === 'primary');
    if (!connected) {
      this.nextBogus = Infinity;
      return;
    }
    const t = now();
    if (this.nextBogus === Infinity) {
      this.nextBogus = t + 2000;
    } else if (t >= this.nextBogus) {
      this.nextBogus = t + 2000;
      this.deliverPacketIn({
        reason: PIN_REASON.NO_MATCH, tableId: 0, cookie: 0xffffffffffffffffn,
        metadata: { in_port: { value: 0xfffffffen } }, frame: bogusRarp(),
      }, 0);
    }
  }
}

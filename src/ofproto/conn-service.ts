// Where connections come from (OVS's ofservice): one per configured target.
// An active target (tcp:, ssl:, unix:) is one reconnecting Rconn; a passive
// one (ptcp:, pssl:, punix:, and the bridge's own .mgmt socket) is a
// listener whose every accepted stream becomes its own unreliable Rconn.
// Each negotiated stream gets an OfConnection; the manager is told through
// ServiceEvents when one appears or goes.

import type * as net from 'node:net';
import { listenStream, type StreamListener, type TlsFiles } from '../lib/stream.js';
import { vlogModule } from '../lib/vlog.js';
import { OfConnection, type ConnOwner } from './ofconn.js';
import { OFP_PORT, Rconn, type RconnOptions } from './rconn.js';

const log = vlogModule('connmgr');

export interface ControllerConfig {
  target: string;
  /** Longest reconnection backoff in ms (default 8 s). */
  maxBackoff?: number;
  /** Inactivity probe in ms (default 5 s; 0 disables; OVS never probes more often than every 5 s). */
  inactivityProbe?: number;
  connectionMode?: 'in-band' | 'out-of-band';
  /** Packet-ins per second; unset or 0 means unlimited. */
  rateLimit?: number;
  /** Packet-ins let through in a burst (default rate/4). */
  burstLimit?: number;
  /** Controller.type: default primary for active targets, service for passive ones. */
  type?: 'primary' | 'service';
  /** Controller.enable_async_messages (default true). */
  enableAsyncMessages?: boolean;
}

export interface ServiceSettings {
  type: 'primary' | 'service';
  /** Probe interval as configured, in whole seconds (fail-open uses it as OVS does). */
  probeSecs: number;
  /** Probe interval the connections use, in ms. */
  probeMs: number;
  maxBackoff: number;
  enableAsyncMessages: boolean;
  rateLimit: number;
  burstLimit: number;
}

/** Settings of a controller as OVS's bridge_configure_remotes derives them. */
export function serviceSettings(c: ControllerConfig, minProbeMs: number): ServiceSettings {
  const passive = /^p(tcp|ssl|unix):/.test(c.target);
  const probeSecs = c.inactivityProbe === undefined ? 5 : c.inactivityProbe === 0 ? 0 : c.inactivityProbe < 1000 ? 1 : Math.floor(c.inactivityProbe / 1000);
  return {
    type: c.type ?? (passive ? 'service' : 'primary'),
    probeSecs,
    probeMs: probeSecs ? Math.max(minProbeMs, probeSecs * 1000) : 0,
    maxBackoff: c.maxBackoff ? Math.max(1000, Math.floor(c.maxBackoff / 1000) * 1000) : 8000,
    enableAsyncMessages: c.enableAsyncMessages ?? true,
    rateLimit: c.rateLimit ?? 0,
    burstLimit: c.burstLimit ?? 0,
  };
}

export interface ServiceEvents {
  readonly owner: ConnOwner;
  allowedVersions(): number;
  tls(): TlsFiles | undefined;
  bridge: string;
  opened(conn: OfConnection): void;
  message(conn: OfConnection, raw: Uint8Array): void;
  closed(conn: OfConnection): void;
}

let acceptCounter = 0;

export class Service {
  /** Active targets: the one reconnecting connection. */
  rconn: Rconn | null = null;
  private listener: StreamListener | null = null;
  private readonly accepted = new Set<Rconn>();
  readonly conns = new Set<OfConnection>();
  private gone = false;
  /** Resolves once a passive service listens (or failed to). */
  ready: Promise<void> = Promise.resolve();

  constructor(readonly target: string, public settings: ServiceSettings, private readonly ev: ServiceEvents) {
    if (/^(tcp|ssl|unix):/.test(target)) {
      this.rconn = Rconn.connect(target, `${ev.bridge}<->${target}`, this.rconnOptions(), this.handler());
    } else {
      this.ready = listenStream(target, (s) => this.accept(s), { defaultPort: OFP_PORT, ...this.tlsOpt() }).then(
        (l) => {
          if (this.gone) void l.close();
          else this.listener = l;
        },
        (e: Error) => log.err(`${ev.bridge}: failed to listen on ${target}: ${e.message}`),
      );
    }
  }

  get isPassive(): boolean {
    return this.rconn === null;
  }

  /** The bound address of a passive service ("ptcp:41234:127.0.0.1"), once listening. */
  get boundName(): string | null {
    return this.listener?.boundName ?? null;
  }

  reconfigure(settings: ServiceSettings): void {
    this.settings = settings;
    this.rconn?.reconfigure(this.rconnOptions());
    for (const rc of this.accepted) rc.reconfigure(this.rconnOptions());
    for (const c of this.conns) c.reconfigure(this.connSettings());
  }

  async destroy(): Promise<void> {
    this.gone = true;
    this.rconn?.destroy();
    for (const rc of [...this.accepted]) rc.destroy();
    this.accepted.clear();
    const l = this.listener;
    this.listener = null;
    await this.ready;
    if (l) await l.close();
  }

  /** Drops every connection (they come back with new settings: reconnect or a new accept). */
  dropAll(): void {
    for (const rc of [...this.accepted]) rc.destroy();
    this.accepted.clear();
    this.rconn?.reconnectNow();
  }

  private tlsOpt(): { tls?: TlsFiles } {
    const t = this.ev.tls();
    return t ? { tls: t } : {};
  }

  private rconnOptions(): RconnOptions {
    return { probeInterval: this.settings.probeMs, maxBackoff: this.settings.maxBackoff, allowedVersions: this.ev.allowedVersions(), ...this.tlsOpt() };
  }

  private connSettings() {
    return { type: this.settings.type, enableAsyncMessages: this.settings.enableAsyncMessages, rateLimit: this.settings.rateLimit, burstLimit: this.settings.burstLimit };
  }

  private accept(socket: net.Socket): void {
    if (this.gone) {
      socket.destroy();
      return;
    }
    const peer = socket.remoteAddress ? `${this.target.replace(/^p/, '').split(':')[0]}:${socket.remoteAddress}:${socket.remotePort}` : `unix#${++acceptCounter}`;
    const rc = Rconn.accepted(socket, `${this.ev.bridge}<->${peer}`, this.rconnOptions(), this.handler());
    this.accepted.add(rc);
  }

  private handler() {
    const byRconn = new Map<Rconn, OfConnection>();
    return {
      connected: (rc: Rconn) => {
        const c = new OfConnection(rc, this.ev.owner, this.connSettings());
        byRconn.set(rc, c);
        this.conns.add(c);
        this.ev.opened(c);
      },
      message: (rc: Rconn, raw: Uint8Array) => {
        const c = byRconn.get(rc);
        if (c) this.ev.message(c, raw);
      },
      disconnected: (rc: Rconn) => {
        const c = byRconn.get(rc);
        byRconn.delete(rc);
        if (!rc.reliable) this.accepted.delete(rc);
        if (!c) return;
        c.markClosed();
        this.conns.delete(c);
        this.ev.closed(c);
      },
    };
  }
}

// Kernel-backed netdevs' shared half (OVS's netdev-linux): link facts read
// over rtnetlink and changed by ioctl, change events from one rtnetlink
// monitor socket per thread (the netdev_run part of the seeds), counters from
// the kernel, and a main-thread receive loop for the per-frame path. The
// datapath's PMD workers do not use that loop: they take rxq().handle and
// burst on it themselves.
import { EventEmitter } from 'node:events';
import type { LinkEvent, LinkState, PortCounters } from '../native/index.js';
import { FRAME_MAX, FrameBatch, HEADROOM, closeHandle, isNativeError, loadNative, macBytes, rxBatch, txBatch }
  from '../native/index.js';
import type { Netdev, NetdevErrno, NetdevEvents, NetdevOptions, NetdevStats } from './netdev.js';
import { NetdevError, formatMac, parseMac } from './netdev.js';

/** The errno names NetdevError can carry as such; any other errno keeps its text under EOPNOTSUPP. */
const NETDEV_ERRNOS = new Set<string>(['EAFNOSUPPORT', 'ENODEV', 'EEXIST', 'EINVAL', 'EOPNOTSUPP', 'ENOSPC', 'EBUSY']);

/** A native failure as a NetdevError: the errno when NetdevError knows it, with strerror's text as the message. */
export function toNetdevError(e: unknown): NetdevError {
  if (e instanceof NetdevError) return e;
  if (isNativeError(e)) {
    const text = e.message.slice(e.message.lastIndexOf(': ') + 2);
    if (NETDEV_ERRNOS.has(e.code)) return new NetdevError(e.code as NetdevErrno);
    return new NetdevError('EOPNOTSUPP', text || e.message);
  }
  return new NetdevError('EOPNOTSUPP', e instanceof Error ? e.message : String(e));
}

/** A device the datapath can burst on directly (system, internal, tap). */
export interface BatchNetdev extends Netdev {
  /** The handle a PMD worker polls with rxBurst (and may transmit on with txBurst). */
  rxq(): { handle: number; kind: 'afpacket' | 'tap' };
  /** Transmits frames of `batch`: all, or the first `count` (default all) of `indices`. Returns frames sent. */
  sendBatch(batch: FrameBatch, indices?: Uint32Array, count?: number): number;
  /** Appends the frames waiting on the device to `batch` (a datapath polling on the main thread); returns how many. */
  receiveBatch(batch: FrameBatch): number;
}

export function isBatchNetdev(n: Netdev): n is BatchNetdev {
  const b = n as Partial<BatchNetdev>;
  return typeof b.rxq === 'function' && typeof b.sendBatch === 'function' && typeof b.receiveBatch === 'function';
}

/**
 * Link events of this thread's rtnetlink socket (RTMGRP_LINK), polled every
 * `intervalMs` while anybody listens. The timer does not keep the process
 * alive. `poll()` reads at once (a test or a caller that just changed a link).
 */
export class LinkMonitor {
  private handle = -1;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(e: LinkEvent) => void>();

  constructor(private readonly intervalMs = 50) {}

  subscribe(listener: (e: LinkEvent) => void): () => void {
    if (this.listeners.size === 0) this.start();
    this.listeners.add(listener);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop();
    };
  }

  /** Reads every queued event and hands each to the listeners. */
  poll(): void {
    if (this.handle < 0) return;
    for (const ev of loadNative().linkMonitorRead(this.handle)) {
      for (const l of [...this.listeners]) l(ev);
    }
  }

  private start(): void {
    this.handle = loadNative().linkMonitorOpen();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.handle >= 0) closeHandle(this.handle);
    this.handle = -1;
  }
}

/** This thread's link monitor, shared by every kernel-backed netdev. */
export const linkMonitor = new LinkMonitor();

/**
 * The per-frame receive path on the main thread: one loop over every device
 * with a receive handler, bursting into one batch and handing each frame (a
 * copy the handler may keep) to its device's handler. It spins with
 * setImmediate while frames come and sleeps 1 ms when idle.
 */
class ReceiveLoop {
  private readonly devices = new Set<LinuxNetdev>();
  private readonly batch = new FrameBatch(64);
  private scheduled: NodeJS.Timeout | NodeJS.Immediate | null = null;

  add(dev: LinuxNetdev): void {
    this.devices.add(dev);
    this.schedule(false);
  }

  remove(dev: LinuxNetdev): void {
    this.devices.delete(dev);
  }

  private schedule(busy: boolean): void {
    if (this.scheduled || this.devices.size === 0) return;
    const run = (): void => {
      this.scheduled = null;
      this.schedule(this.run());
    };
    this.scheduled = busy ? setImmediate(run) : setTimeout(run, 1);
  }

  private run(): boolean {
    let got = false;
    for (const dev of [...this.devices]) {
      const handler = dev.receiveHandler;
      if (!handler) continue;
      this.batch.clear();
      let n: number;
      try {
        n = rxBatch(dev.rxq().handle, this.batch);
      } catch {
        this.devices.delete(dev); // closed under us
        continue;
      }
      for (let i = 0; i < n; i++) handler(this.batch.frame(i).slice());
      if (n > 0) got = true;
    }
    return got;
  }
}

const receiveLoop = new ReceiveLoop();

/**
 * A netdev over a kernel link: `system` (AF_PACKET) and `internal`/`tap`
 * (a tap fd) differ only in how the handle is opened and which way the
 * kernel counts.
 */
export abstract class LinuxNetdev extends EventEmitter<NetdevEvents> implements BatchNetdev {
  private seq = 0;
  private resets = 0;
  private state: LinkState;
  private readonly unsubscribe: () => void;
  private readonly scratch = new FrameBatch(1, FRAME_MAX + HEADROOM);
  private closed = false;
  /** The per-frame receive handler, read by the receive loop. */
  receiveHandler: ((frame: Uint8Array) => void) | null = null;

  /** `handle` is open on the kernel link `name` already; it is closed with the netdev. */
  protected constructor(readonly name: string, readonly type: string, protected readonly handle: number,
    private readonly kind: 'afpacket' | 'tap') {
    super();
    try {
      const { ifindex, flags, adminUp, running, lowerUp, mtu, mac, operstate } = loadNative().linkInfo(name);
      this.state = { ifindex, name, flags, adminUp, running, lowerUp, mtu, mac, operstate };
    } catch (e) {
      closeHandle(handle);
      throw toNetdevError(e);
    }
    this.unsubscribe = linkMonitor.subscribe((ev) => this.onLinkEvent(ev));
  }

  /** Whether the kernel counts this link from the other side (a tap: its tx is what the switch receives). */
  protected abstract readonly countersReversed: boolean;

  get changeSeq(): number {
    return this.seq;
  }

  private onLinkEvent(ev: LinkEvent): void {
    if (ev.ifindex !== this.state.ifindex) return;
    if (ev.type === 'del') {
      this.apply({ ...this.state, adminUp: false, running: false, lowerUp: false });
    } else {
      this.apply(ev);
    }
  }

  private apply(next: LinkState): void {
    const prev = this.state;
    const { name, flags, adminUp, running, lowerUp, mtu, mac, operstate } = next;
    this.state = { ifindex: prev.ifindex, name, flags, adminUp, running, lowerUp, mtu, mac, operstate };
    if (prev.running && !next.running) this.resets++;
    if (prev.adminUp !== next.adminUp || prev.running !== next.running || prev.mtu !== next.mtu || prev.mac !== next.mac) {
      this.seq++;
      this.emit('change');
    }
  }

  /** Reads the link again now (after a change made here, so callers see it before the monitor's event). */
  refresh(): void {
    if (this.closed) return;
    try {
      this.apply(loadNative().linkInfo(this.state.ifindex));
    } catch {
      this.apply({ ...this.state, adminUp: false, running: false, lowerUp: false });
    }
  }

  setConfig(_options: NetdevOptions): void {
    // Kernel links take no options here; OVS ignores unknown ones for system ports too.
  }

  isAdminUp(): boolean {
    return this.state.adminUp;
  }

  setAdminUp(up: boolean): void {
    this.control(() => loadNative().linkSetUp(this.name, up));
  }

  isLinkUp(): boolean {
    return this.state.running;
  }

  linkResets(): number {
    return this.resets;
  }

  getMac(): string {
    return this.state.mac ?? '00:00:00:00:00:00';
  }

  setMac(mac: string): void {
    const bytes = parseMac(mac);
    if (!bytes) throw new NetdevError('EINVAL', `${this.name}: "${mac}" is not an Ethernet address`);
    if (formatMac(bytes) === this.getMac()) return;
    this.control(() => loadNative().linkSetMac(this.name, macBytes(formatMac(bytes))));
  }

  getMtu(): number {
    return this.state.mtu;
  }

  setMtu(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new NetdevError('EINVAL', `${this.name}: bad MTU ${mtu}`);
    if (mtu === this.state.mtu) return;
    this.control(() => loadNative().linkSetMtu(this.name, mtu));
  }

  private control(change: () => void): void {
    try {
      change();
    } catch (e) {
      throw toNetdevError(e);
    }
    this.refresh();
  }

  getIfindex(): number | null {
    return this.state.ifindex;
  }

  getLinkSpeed(): { bps: number; fullDuplex: boolean } | null {
    try {
      const s = loadNative().linkSpeed(this.name);
      return s ? { bps: s.mbps * 1e6, fullDuplex: s.fullDuplex } : null;
    } catch {
      return null;
    }
  }

  /** Driver facts for Interface.status, named as OVS names them. */
  getStatus(): Record<string, string> {
    try {
      const d = loadNative().linkDriver(this.name);
      return d ? { driver_name: d.driver, driver_version: d.version, firmware_version: d.firmware } : {};
    } catch {
      return {};
    }
  }

  /** The handle's own counters (frames this process moved, drops it saw). */
  portCounters(): PortCounters {
    return loadNative().portStats(this.handle);
  }

  getStats(): NetdevStats {
    const own = this.portCounters();
    let k;
    try {
      k = loadNative().linkInfo(this.state.ifindex).stats;
    } catch {
      k = null;
    }
    if (!k) {
      return { rx_packets: own.rx_packets, tx_packets: own.tx_packets, rx_bytes: own.rx_bytes, tx_bytes: own.tx_bytes,
        rx_dropped: own.rx_dropped + own.rx_truncated + own.ring_drops, tx_dropped: own.tx_dropped };
    }
    const r = this.countersReversed;
    return {
      rx_packets: r ? k.tx_packets : k.rx_packets,
      tx_packets: r ? k.rx_packets : k.tx_packets,
      rx_bytes: r ? k.tx_bytes : k.rx_bytes,
      tx_bytes: r ? k.rx_bytes : k.tx_bytes,
      // Frames lost in this process (ring full, too big) count as dropped on top of the kernel's.
      rx_dropped: (r ? k.tx_dropped : k.rx_dropped) + own.rx_dropped + own.rx_truncated + own.ring_drops,
      tx_dropped: (r ? k.rx_dropped : k.tx_dropped) + own.tx_dropped,
      rx_errors: r ? k.tx_errors : k.rx_errors,
      tx_errors: r ? k.rx_errors : k.tx_errors,
    };
  }

  send(frame: Uint8Array): boolean {
    if (this.closed || !this.state.adminUp) return false;
    this.scratch.clear();
    if (!this.scratch.push(frame)) return false;
    return txBatch(this.handle, this.scratch) === 1;
  }

  setReceiveHandler(handler: ((frame: Uint8Array) => void) | null): void {
    this.receiveHandler = handler;
    if (handler && !this.closed) receiveLoop.add(this);
    else receiveLoop.remove(this);
  }

  rxq(): { handle: number; kind: 'afpacket' | 'tap' } {
    return { handle: this.handle, kind: this.kind };
  }

  receiveBatch(batch: FrameBatch): number {
    if (this.closed) return 0;
    try {
      return rxBatch(this.handle, batch);
    } catch {
      return 0;
    }
  }

  sendBatch(batch: FrameBatch, indices?: Uint32Array, count?: number): number {
    if (this.closed) return 0;
    return txBatch(this.handle, batch, indices, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.receiveHandler = null;
    receiveLoop.remove(this);
    this.unsubscribe();
    closeHandle(this.handle);
    this.removeAllListeners();
  }
}

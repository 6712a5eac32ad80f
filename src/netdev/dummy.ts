// The dummy port type (OVS's netdev-dummy), for tests: no kernel device
// behind it. Frames sent are counted and handed to tap listeners; frames
// "received" are injected (by netdev-dummy/receive, later) and queued for the
// datapath. Carrier follows the admin state, which netdev-dummy/set-admin-state
// flips, so a test can see link changes reach the database.
import { EventEmitter } from 'node:events';
import type { NetdevEvents, Netdev, NetdevClass, NetdevOptions, NetdevStats } from './netdev.js';
import { NetdevError, formatMac, parseMac } from './netdev.js';
import type { NetdevRegistry } from './registry.js';

/** Frames kept for a datapath that has not attached yet; OVS keeps the same number. */
const MAX_RX_QUEUE = 100;

/** Types the dummy class always serves: plain dummy ports and the switch's local ports in dummy mode. */
export const DUMMY_TYPES = ['dummy', 'dummy-internal'] as const;

/** How far `--enable-dummy` goes: add dummy types, also stand in for "system", or stand in for every type. */
export type DummyLevel = 'none' | 'system' | 'override';

// Like OVS, MACs come from a process-wide counter in the locally administered
// aa:55:xx:xx:xx:xx range: unique within a run and the same from run to run.
let nextMacSerial = 0xaa550000;

export class DummyNetdev extends EventEmitter<NetdevEvents> implements Netdev {
  private adminUp = true;
  private resets = 0;
  private mac: Uint8Array;
  private mtu = 1500;
  private ifindex: number | null = null;
  private seq = 0;
  private readonly stats: NetdevStats = { rx_packets: 0, tx_packets: 0, rx_bytes: 0, tx_bytes: 0 };
  private rxHandler: ((frame: Uint8Array) => void) | null = null;
  private readonly rxQueue: Uint8Array[] = [];
  private readonly txTaps = new Set<(frame: Uint8Array) => void>();
  private closed = false;

  constructor(readonly name: string, readonly type: string) {
    super();
    const n = nextMacSerial++ >>> 0;
    this.mac = Uint8Array.of(0xaa, 0x55, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }

  get changeSeq(): number {
    return this.seq;
  }

  private changed(): void {
    this.seq++;
    this.emit('change');
  }

  setConfig(options: NetdevOptions): void {
    const ifindex = options.get('ifindex');
    if (ifindex === undefined) {
      this.ifindex = null;
    } else if (/^\d+$/.test(ifindex)) {
      this.ifindex = Number(ifindex);
    } else {
      throw new NetdevError('EINVAL', `${this.name}: bad ifindex "${ifindex}"`);
    }
  }

  isAdminUp(): boolean {
    return this.adminUp;
  }

  setAdminUp(up: boolean): void {
    if (up === this.adminUp) return;
    this.adminUp = up;
    if (!up) this.resets++;
    this.changed();
  }

  isLinkUp(): boolean {
    return this.adminUp;
  }

  linkResets(): number {
    return this.resets;
  }

  getMac(): string {
    return formatMac(this.mac);
  }

  setMac(mac: string): void {
    const bytes = parseMac(mac);
    if (!bytes) throw new NetdevError('EINVAL', `${this.name}: "${mac}" is not an Ethernet address`);
    if (formatMac(bytes) === this.getMac()) return;
    this.mac = bytes;
    this.changed();
  }

  getMtu(): number {
    return this.mtu;
  }

  setMtu(mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new NetdevError('EINVAL', `${this.name}: bad MTU ${mtu}`);
    if (mtu === this.mtu) return;
    this.mtu = mtu;
    this.changed();
  }

  getIfindex(): number | null {
    return this.ifindex;
  }

  getLinkSpeed(): { bps: number; fullDuplex: boolean } | null {
    return null;
  }

  getStatus(): Record<string, string> {
    return {};
  }

  getStats(): NetdevStats {
    return { ...this.stats };
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) return false;
    this.stats.tx_packets++;
    this.stats.tx_bytes += frame.length;
    for (const tap of this.txTaps) tap(frame);
    return true;
  }

  setReceiveHandler(handler: ((frame: Uint8Array) => void) | null): void {
    this.rxHandler = handler;
    if (handler) {
      for (const frame of this.rxQueue.splice(0)) handler(frame);
    }
  }

  /**
   * Injects a frame as if it arrived on the wire (netdev-dummy/receive).
   * Returns false when it was dropped: device down, or the queue full with
   * nobody reading.
   */
  receive(frame: Uint8Array): boolean {
    if (this.closed || !this.adminUp) return false;
    this.stats.rx_packets++;
    this.stats.rx_bytes += frame.length;
    if (this.rxHandler) {
      this.rxHandler(frame);
      return true;
    }
    if (this.rxQueue.length >= MAX_RX_QUEUE) return false;
    this.rxQueue.push(frame);
    return true;
  }

  /** Takes the oldest queued received frame, for a datapath that polls. */
  recv(): Uint8Array | null {
    return this.rxQueue.shift() ?? null;
  }

  /** Watches frames this device transmits; returns the function that stops watching. */
  tapTransmit(listener: (frame: Uint8Array) => void): () => void {
    this.txTaps.add(listener);
    return () => this.txTaps.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.rxHandler = null;
    this.rxQueue.length = 0;
    this.txTaps.clear();
    this.removeAllListeners();
  }
}

export const dummyNetdevClass: NetdevClass = {
  type: 'dummy',
  open(name: string, type: string): Netdev {
    return new DummyNetdev(name, type);
  },
};

/**
 * Registers the dummy types, and with `system` or `override` makes the dummy
 * class stand in for "system" or for every type in `overridable` (except
 * "patch", which never touches a device), as OVS's --enable-dummy does.
 */
export function registerDummyClasses(registry: NetdevRegistry, level: DummyLevel, overridable: readonly string[] = []): void {
  for (const t of DUMMY_TYPES) registry.register(dummyNetdevClass, t);
  if (level === 'system') registry.register(dummyNetdevClass, 'system');
  if (level === 'override') {
    for (const t of new Set([...registry.types(), ...overridable])) {
      if (t !== 'patch') registry.register(dummyNetdevClass, t);
    }
  }
}

/** The unixctl surface the dummy commands need (UnixctlServer fits). */
export interface DummyCommandRegistry {
  register(name: string, usage: string | null, minArgs: number, maxArgs: number,
    handler: (args: string[]) => string | void | Promise<string | void>): void;
}

/**
 * Registers `netdev-dummy/set-admin-state [NETDEV] up|down`. `afterChange`
 * runs before the reply (the switch uses it to write the new state to the
 * database, so the caller sees it once the command returns).
 */
export function registerDummyCommands(server: DummyCommandRegistry, registry: NetdevRegistry,
  afterChange: () => Promise<void> = async () => undefined): void {
  server.register('netdev-dummy/set-admin-state', '[netdev] up|down', 1, 2, async (args) => {
    const state = args[args.length - 1]!.toLowerCase();
    if (state !== 'up' && state !== 'down') throw new NetdevCommandError('Invalid Admin State');
    const up = state === 'up';
    if (args.length > 1) {
      const dev = registry.byName(args[0]!);
      if (!(dev instanceof DummyNetdev)) throw new NetdevCommandError('Unknown Dummy Interface');
      dev.setAdminUp(up);
    } else {
      for (const dev of registry.openDevices()) if (dev instanceof DummyNetdev) dev.setAdminUp(up);
    }
    await afterChange();
    return 'OK';
  });
}

/** An error reply of a netdev-dummy command. */
export class NetdevCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetdevCommandError';
  }
}

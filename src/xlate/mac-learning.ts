// NORMAL's MAC learning table (OVS's lib/mac-learning): which port a source
// MAC was last seen on, per VLAN, with idle aging and an LRU order that
// `fdb/show` prints oldest first.

/** OVS's defaults: 300 s idle time, 8192 entries (other_config mac-aging-time, mac-table-size). */
export const MAC_DEFAULT_IDLE_TIME = 300;
export const MAC_DEFAULT_MAX = 8192;

interface MacEntry {
  readonly mac: bigint;
  readonly vlan: number;
  port: number;
  /** When it was last learned (ms on the table's clock). */
  learned: number;
}

export interface MacLearningOptions {
  idleTime?: number;
  maxEntries?: number;
  /** Milliseconds, monotonic (default performance.now). */
  now?: () => number;
}

function entryKey(mac: bigint, vlan: number): bigint {
  return (BigInt(vlan) << 48n) | mac;
}

function formatMac(mac: bigint): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

export class MacLearning {
  /** Seconds an entry lives without being seen again. */
  idleTime: number;
  maxEntries: number;
  private readonly now: () => number;
  /** Insertion order is LRU order: a relearned entry is moved to the end. */
  private readonly entries = new Map<bigint, MacEntry>();
  /** Moves on every change that can change a forwarding decision (new, moved or forgotten entries): cached translations check it. */
  version = 0;

  constructor(opts: MacLearningOptions = {}) {
    this.idleTime = opts.idleTime ?? MAC_DEFAULT_IDLE_TIME;
    this.maxEntries = opts.maxEntries ?? MAC_DEFAULT_MAX;
    this.now = opts.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sets the aging time (seconds, at least 15 as OVS clamps) and the table size. */
  configure(idleTime: number, maxEntries = this.maxEntries): void {
    this.idleTime = Math.max(15, Math.min(3600, Math.floor(idleTime)));
    this.maxEntries = Math.max(10, Math.floor(maxEntries));
    this.expire();
  }

  /** Multicast source addresses are never learned. */
  static mayLearn(mac: bigint): boolean {
    return (mac & 0x010000000000n) === 0n;
  }

  /**
   * Records that `mac` in `vlan` was seen on `port`; returns true when that
   * is news (a new entry, or the MAC moved), which the trace reports.
   */
  learn(mac: bigint, vlan: number, port: number): boolean {
    if (!MacLearning.mayLearn(mac)) return false;
    const now = this.now();
    const k = entryKey(mac, vlan);
    const e = this.entries.get(k);
    if (e && this.alive(e, now)) {
      this.entries.delete(k);
      this.entries.set(k, e);
      e.learned = now;
      if (e.port === port) return false;
      e.port = port;
      this.version++;
      return true;
    }
    if (e) this.entries.delete(k);
    this.expire(now);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as bigint;
      this.entries.delete(oldest);
      this.version++;
    }
    this.entries.set(k, { mac, vlan, port, learned: now });
    this.version++;
    return true;
  }

  /** The port `mac` was learned on in `vlan`, if the entry is still alive. */
  lookup(mac: bigint, vlan: number): number | undefined {
    const e = this.entries.get(entryKey(mac, vlan));
    if (!e) return undefined;
    if (!this.alive(e, this.now())) {
      this.entries.delete(entryKey(mac, vlan));
      this.version++;
      return undefined;
    }
    return e.port;
  }

  private alive(e: MacEntry, now: number): boolean {
    return now - e.learned < this.idleTime * 1000;
  }

  /** Drops entries idle for longer than the aging time. */
  expire(now = this.now()): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (!this.alive(e, now)) {
        this.entries.delete(k);
        n++;
      }
    }
    if (n) this.version++;
    return n;
  }

  flush(): void {
    this.entries.clear();
    this.version++;
  }

  /** Forgets what was learned on a port (the port went away or changed). */
  flushPort(port: number): void {
    for (const [k, e] of this.entries) if (e.port === port) this.entries.delete(k);
    this.version++;
  }

  /** `ovs-appctl fdb/show BRIDGE`: oldest entry first, age in whole seconds. */
  show(): string {
    const now = this.now();
    this.expire(now);
    let out = ' port  VLAN  MAC                Age\n';
    for (const e of this.entries.values()) {
      const port = e.port === 0xfffe ? 'LOCAL' : String(e.port);
      const age = Math.floor((now - e.learned) / 1000);
      out += `${port.padStart(5)}  ${String(e.vlan).padStart(4)}  ${formatMac(e.mac)}  ${String(age).padStart(3)}\n`;
    }
    return out;
  }
}

/** Each bridge's table, for bridges that do not keep their own (keyed weakly by the bridge object). */
const tables = new WeakMap<object, MacLearning>();

export function macTableOf(bridge: { readonly macLearning?: MacLearning }): MacLearning {
  if (bridge.macLearning) return bridge.macLearning;
  let t = tables.get(bridge);
  if (!t) {
    t = new MacLearning();
    tables.set(bridge, t);
  }
  return t;
}

// The native layer's public face: a typed loader for the C addon
// (build/Release/tsw_native.node, built by node-gyp from src/native/*.c) and
// thin helpers over it. Everything is handle based: a handle is a small
// integer in a process-wide table, so a worker_thread can burst on a port
// the main thread opened. Every failing call throws an Error whose `code` is
// the errno name ('ENODEV', 'EPERM', ...); see README.md for the whole API.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FrameBatch } from './batch.js';
import { HEADROOM } from './batch.js';

export { BATCH_MAX, FRAME_MAX, FrameBatch, HEADROOM } from './batch.js';

/** Counters a port handle keeps (afpacket or tap). */
export interface PortCounters {
  rx_packets: number;
  rx_bytes: number;
  /** Frames that could not fit any batch buffer, or tap read errors. */
  rx_dropped: number;
  /** Frames larger than the ring keeps (GSO super-frames): dropped, never forwarded in part. */
  rx_truncated: number;
  tx_packets: number;
  tx_bytes: number;
  /** Frames the device refused (too big, down, queue full). */
  tx_dropped: number;
  /** Batch entries whose off/len lie outside the buffer. */
  tx_errors: number;
  /** Frames the kernel dropped because the ring was full (PACKET_STATISTICS tp_drops). */
  ring_drops: number;
}

/** The kernel's 64-bit link counters (IFLA_STATS64). */
export interface LinkStats {
  rx_packets: number; tx_packets: number; rx_bytes: number; tx_bytes: number;
  rx_errors: number; tx_errors: number; rx_dropped: number; tx_dropped: number;
  multicast: number; collisions: number;
  rx_length_errors: number; rx_over_errors: number; rx_crc_errors: number; rx_frame_errors: number;
  rx_fifo_errors: number; rx_missed_errors: number;
  tx_aborted_errors: number; tx_carrier_errors: number; tx_fifo_errors: number; tx_heartbeat_errors: number;
  tx_window_errors: number;
}

export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

/** A link as rtnetlink describes it. */
export interface LinkState {
  ifindex: number;
  name: string;
  /** IFF_* flags (the full 32-bit set, IFF_LOWER_UP included). */
  flags: number;
  adminUp: boolean;
  /** IFF_RUNNING: the kernel's carrier. */
  running: boolean;
  lowerUp: boolean;
  mtu: number;
  /** "xx:xx:xx:xx:xx:xx", or null for links without an Ethernet address. */
  mac: string | null;
  operstate: OperState;
}

export interface LinkInfo extends LinkState {
  type: 'new';
  stats: LinkStats | null;
}

/** A message of the link monitor: a link appeared or changed ('new') or went away ('del'). */
export interface LinkEvent extends LinkState {
  type: 'new' | 'del';
}

/** The kernel's route to an address (`routeGet`): what `ip route get` answers. */
export interface RouteAnswer {
  /** The interface the route leaves by (0 and '' when the kernel names none). */
  ifindex: number;
  dev: string;
  /** The source address the host would use, or null when the kernel gives none. */
  prefsrc: string | null;
  /** The next-hop gateway, or null on a connected route (for IPv4 via IPv6, the IPv6 text). */
  gateway: string | null;
  /** The routing table that matched (254 main, 255 local; with no policy rules the kernel folds local into main). */
  table: number;
  type: RouteType;
}

export type RouteType = 'unspec' | 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole'
  | 'unreachable' | 'prohibit' | 'throw' | 'nat' | 'xresolve' | 'unknown';

/** NUD_* states of a neighbour entry, by the names `ip neigh` prints. */
export const NUD = {
  INCOMPLETE: 0x01, REACHABLE: 0x02, STALE: 0x04, DELAY: 0x08, PROBE: 0x10, FAILED: 0x20, NOARP: 0x40, PERMANENT: 0x80,
} as const;

/** The kernel's neighbour entry for an address on an interface (`neighGet`). */
export interface NeighbourAnswer {
  /** The link-layer address, "xx:xx:…" as ip prints it; null while the entry has none (INCOMPLETE, FAILED). */
  mac: string | null;
  /** NUD_* bits (see NUD). */
  state: number;
  /** The state bits by name, e.g. ['REACHABLE'], or ['NONE'] for 0. */
  stateNames: string[];
}

/** PACKET_FANOUT modes, by the names the kernel gives them. */
export const FANOUT_MODES = { hash: 0, lb: 1, cpu: 2, rollover: 3, rnd: 4, qm: 5 } as const;
export type FanoutMode = keyof typeof FANOUT_MODES;

export interface PacketOpenOptions {
  /**
   * The receive ring (default 2). TPACKET_V2 hands each frame over as it is written; TPACKET_V3 packs frames into
   * blocks handed over full or after `retireMs`, fewer wakeups at high rates for up to that much delay at low ones.
   */
  tpacketVersion?: 2 | 3;
  /** Bytes per TPACKET_V2 slot, a power of two from 2048 (default); bigger frames come whole through the socket. */
  frameSize?: number;
  /** Bytes per ring block, a power of two >= 4096 (default 256 KiB). */
  blockSize?: number;
  /** Blocks in the ring (default 16). */
  blockCount?: number;
  /** TPACKET_V3: milliseconds before the kernel hands over a part-filled block (default 1): the added latency at low rates. */
  retireMs?: number;
  /** Join fanout group `group` (1..65535): sockets of one group share the interface's frames. */
  fanout?: { group: number; mode: FanoutMode };
  /** PACKET_MR_PROMISC (default true). */
  promisc?: boolean;
  /** PACKET_QDISC_BYPASS on transmit (default true). */
  qdiscBypass?: boolean;
  /** PACKET_IGNORE_OUTGOING: do not receive what this host transmits on the link (default true). */
  ignoreOutgoing?: boolean;
}

/** The addon's exports, exactly as C defines them (README.md). */
export interface TswNative {
  lockFile(fd: number): boolean;
  lockOwner(fd: number): number;
  close(handle: number): void;
  kindOf(handle: number): 'afpacket' | 'tap' | 'waker' | 'linkmon' | null;
  packetOpen(ifname: string, opts?: {
    tpacketVersion?: number; frameSize?: number; blockSize?: number; blockCount?: number; retireMs?: number;
    fanoutGroup?: number; fanoutMode?: number; promisc?: boolean; qdiscBypass?: boolean; ignoreOutgoing?: boolean;
  }): number;
  tapOpen(name: string, opts?: { persist?: boolean }): { handle: number; name: string; ifindex: number };
  tapSetPersist(handle: number, persist: boolean): void;
  rxBurst(handle: number, buf: Uint8Array, off: Uint32Array, len: Uint32Array, startIndex: number, max: number,
    headroom: number): number;
  txBurst(handle: number, buf: Uint8Array, off: Uint32Array, len: Uint32Array, start: number, count: number,
    indices?: Uint32Array): number;
  portStats(handle: number): PortCounters;
  wakerOpen(): number;
  wake(waker: number): void;
  wait(handles: Int32Array, timeoutMs: number): number;
  linkIndex(name: string): number;
  linkInfo(nameOrIfindex: string | number): LinkInfo;
  linkSetUp(name: string, up: boolean): void;
  linkSetMtu(name: string, mtu: number): void;
  linkSetMac(name: string, mac: Uint8Array): void;
  linkSpeed(name: string): { mbps: number; fullDuplex: boolean } | null;
  linkDriver(name: string): { driver: string; version: string; firmware: string } | null;
  linkMonitorOpen(): number;
  linkMonitorRead(handle: number): LinkEvent[];
  /** RTM_GETROUTE for `dst` (IPv4 or IPv6 text), with fwmark `mark` when given; null when unreachable. */
  routeGet(dst: string, mark?: number): RouteAnswer | null;
  /** RTM_GETNEIGH for `ip` on interface `ifindex`; null when the kernel has no entry. */
  neighGet(ip: string, ifindex: number): NeighbourAnswer | null;
}

/** An Error from the addon: `code` is the errno name. */
export interface NativeError extends Error {
  code: string;
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

let addon: TswNative | null = null;

/** Where the built addon lives: $TSW_NATIVE_ADDON, else build/Release under the package root. */
export function nativeAddonPath(): string {
  const override = process.env['TSW_NATIVE_ADDON'];
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return join(dir, 'build/Release/tsw_native.node');
}

/**
 * The addon, loaded once per thread (it is context aware, so worker_threads
 * load it too). Throws an Error with code 'ENOSYS' when it was not built.
 */
export function loadNative(): TswNative {
  if (addon) return addon;
  const path = nativeAddonPath();
  try {
    addon = createRequire(import.meta.url)(path) as TswNative;
  } catch (e) {
    const err = new Error(`native addon not available at ${path} (run npm install or node-gyp rebuild): ${(e as Error).message}`);
    (err as NativeError).code = 'ENOSYS';
    throw err;
  }
  return addon;
}

/** Opens an AF_PACKET socket with a receive ring (TPACKET_V2 unless asked for V3) on `ifname`; returns its handle. */
export function packetOpen(ifname: string, opts: PacketOpenOptions = {}): number {
  const { fanout, ...rest } = opts;
  return loadNative().packetOpen(ifname, fanout
    ? { ...rest, fanoutGroup: fanout.group, fanoutMode: FANOUT_MODES[fanout.mode] }
    : rest);
}

/** Attaches to (creating if needed) tap device `name`. */
export function tapOpen(name: string, opts: { persist?: boolean } = {}): { handle: number; name: string; ifindex: number } {
  return loadNative().tapOpen(name, opts);
}

/**
 * Receives up to `max` frames into `batch` after its current frames (each
 * with HEADROOM bytes before it) and advances batch.count; returns how many
 * came. Works on afpacket and tap handles; never blocks.
 */
export function rxBatch(handle: number, batch: FrameBatch, max = batch.capacity - batch.count): number {
  const n = loadNative().rxBurst(handle, batch.buf, batch.off, batch.len, batch.count, max, HEADROOM);
  batch.count += n;
  return n;
}

/**
 * Transmits frames of `batch`: all of them, or the `count` frames listed in
 * `indices` (default all of indices). Returns how many were sent.
 */
export function txBatch(handle: number, batch: FrameBatch, indices?: Uint32Array, count?: number): number {
  const native = loadNative();
  if (indices) return native.txBurst(handle, batch.buf, batch.off, batch.len, 0, count ?? indices.length, indices);
  return native.txBurst(handle, batch.buf, batch.off, batch.len, 0, count ?? batch.count);
}

/** Closes any handle (port, waker, link monitor). */
export function closeHandle(handle: number): void {
  loadNative().close(handle);
}

/** "xx:xx:xx:xx:xx:xx" to six bytes for linkSetMac; throws EINVAL on anything else. */
export function macBytes(mac: string): Uint8Array {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(mac.trim());
  if (!m) {
    const err = new Error(`"${mac}" is not an Ethernet address`) as NativeError;
    err.code = 'EINVAL';
    throw err;
  }
  return Uint8Array.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

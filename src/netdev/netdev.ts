// What a port type must do (OVS's netdev_class): a class opens named devices,
// and a device reports and changes its admin state, carrier, MAC, MTU and
// counters, and moves frames for the datapath that will sit on top of it.
import { EventEmitter } from 'node:events';

/** errno names a netdev operation can fail with, and the text strerror(3) gives for each (as OVS prints them). */
const ERRNO_TEXT = {
  EAFNOSUPPORT: 'Address family not supported by protocol',
  ENODEV: 'No such device',
  EEXIST: 'File exists',
  EINVAL: 'Invalid argument',
  EOPNOTSUPP: 'Operation not supported',
  ENOSPC: 'No space left on device',
  EBUSY: 'Device or resource busy',
} as const;

export type NetdevErrno = keyof typeof ERRNO_TEXT;

/**
 * A failed netdev operation. `message` is strerror's text, so callers can
 * build OVS's messages ("could not open network device X (<message>)").
 */
export class NetdevError extends Error {
  constructor(readonly errno: NetdevErrno, detail?: string) {
    super(detail ?? ERRNO_TEXT[errno]);
    this.name = 'NetdevError';
  }
}

/** Per-device counters, named as in the Interface table's statistics column. */
export interface NetdevStats {
  rx_packets: number;
  tx_packets: number;
  rx_bytes: number;
  tx_bytes: number;
  rx_dropped?: number;
  tx_dropped?: number;
  rx_errors?: number;
  tx_errors?: number;
}

/** Options and other settings from the Interface row that a class may accept. */
export type NetdevOptions = ReadonlyMap<string, string>;

export interface NetdevEvents {
  /** Admin state, carrier, MAC or MTU changed (OVS's change_seq moved). */
  change: [];
}

/** One open network device. */
export interface Netdev extends EventEmitter<NetdevEvents> {
  readonly name: string;
  /** The type it was opened as (the registry key; "system" for an Interface type of ""). */
  readonly type: string;
  /** Increments on every change event; lets pollers skip unchanged devices. */
  readonly changeSeq: number;
  /** Applies Interface options; throws NetdevError(EINVAL, why) for options the class rejects. */
  setConfig(options: NetdevOptions): void;
  isAdminUp(): boolean;
  setAdminUp(up: boolean): void;
  /** Carrier ("link_state"). */
  isLinkUp(): boolean;
  /** Times the carrier went down since open. */
  linkResets(): number;
  /** "xx:xx:xx:xx:xx:xx", lower case. */
  getMac(): string;
  setMac(mac: string): void;
  getMtu(): number;
  setMtu(mtu: number): void;
  /** Kernel ifindex, or null where the device has none. */
  getIfindex(): number | null;
  /** Link speed in bits per second and duplex, or null when unknown. */
  getLinkSpeed(): { bps: number; fullDuplex: boolean } | null;
  /** Driver facts for Interface.status. */
  getStatus(): Record<string, string>;
  getStats(): NetdevStats;
  /** Transmits one frame (the datapath's output action). Returns false when the device is down. */
  send(frame: Uint8Array): boolean;
  /** The datapath's receive hook: called for each frame arriving on the device; null detaches. */
  setReceiveHandler(handler: ((frame: Uint8Array) => void) | null): void;
  /** Releases the device; the registry forgets it once every opener has closed it. */
  close(): void;
}

/** A port type: a registry entry that can open devices of its type. */
export interface NetdevClass {
  /** The Interface.type value it serves ("dummy", "system", "internal", ...). */
  readonly type: string;
  /** Opens (creates) the device `name`; throws NetdevError. */
  open(name: string, type: string): Netdev;
}

/** "aa:55:aa:55:00:01" from six bytes. */
export function formatMac(bytes: ArrayLike<number>): string {
  return Array.from({ length: 6 }, (_, i) => (bytes[i]! & 0xff).toString(16).padStart(2, '0')).join(':');
}

/** Six bytes from "xx:xx:xx:xx:xx:xx", or null when malformed. */
export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/
    .exec(text.trim());
  if (!m) return null;
  return Uint8Array.from(m.slice(1, 7).map((h) => parseInt(h, 16)));
}

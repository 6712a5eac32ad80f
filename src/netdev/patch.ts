// The `patch` port type (OVS's netdev-vport patch class): one end of a
// virtual cable between two bridges of the same switch, named by
// options:peer. It has no device and no datapath port; a packet output to it
// continues its translation in the peer's bridge (src/xlate does that), so
// this class only keeps the configuration and a port's facts.
import { EventEmitter } from 'node:events';
import type { Netdev, NetdevClass, NetdevEvents, NetdevOptions, NetdevStats } from './netdev.js';
import { NetdevError } from './netdev.js';

let nextMac = 0;

export class PatchNetdev extends EventEmitter<NetdevEvents> implements Netdev {
  readonly type = 'patch';
  /** The name of the patch port at the other end (options:peer). */
  peer: string | null = null;
  private adminUp = true;
  private seq = 0;
  private readonly mac: string;
  private readonly stats: NetdevStats = { rx_packets: 0, tx_packets: 0, rx_bytes: 0, tx_bytes: 0 };

  constructor(readonly name: string) {
    super();
    const n = nextMac++;
    // Locally administered, like the random address OVS gives a patch port.
    this.mac = ['aa', '66', '00', '00', ((n >> 8) & 0xff).toString(16).padStart(2, '0'), (n & 0xff).toString(16).padStart(2, '0')].join(':');
  }

  get changeSeq(): number {
    return this.seq;
  }

  /** OVS's set_patch_config: a peer is required and may not be the port itself. */
  setConfig(options: NetdevOptions): void {
    const peer = options.get('peer');
    if (!peer) throw new NetdevError('EINVAL', `${this.name}: patch type requires valid 'peer' argument`);
    if (peer === this.name) throw new NetdevError('EINVAL', `${this.name}: patch peer must not be self`);
    for (const k of options.keys()) {
      if (k !== 'peer') throw new NetdevError('EINVAL', `${this.name}: patch type has no '${k}' option`);
    }
    if (peer !== this.peer) {
      this.peer = peer;
      this.seq++;
      this.emit('change');
    }
  }

  isAdminUp(): boolean { return this.adminUp; }
  setAdminUp(up: boolean): void {
    if (up === this.adminUp) return;
    this.adminUp = up;
    this.seq++;
    this.emit('change');
  }
  isLinkUp(): boolean { return this.adminUp && this.peer !== null; }
  linkResets(): number { return 0; }
  getMac(): string { return this.mac; }
  setMac(): void { throw new NetdevError('EOPNOTSUPP', `${this.name}: a patch port's address cannot be set`); }
  getMtu(): number { return 65535; }
  setMtu(): void { throw new NetdevError('EOPNOTSUPP', `${this.name}: a patch port has no MTU to set`); }
  getIfindex(): number | null { return null; }
  getLinkSpeed(): { bps: number; fullDuplex: boolean } | null { return null; }
  getStatus(): Record<string, string> { return this.peer ? { peer: this.peer } : {}; }
  getStats(): NetdevStats { return { ...this.stats }; }
  /** Counts a packet that crossed the cable (the translation does the crossing; nothing is sent). */
  count(bytes: number, tx: boolean): void {
    if (tx) { this.stats.tx_packets++; this.stats.tx_bytes += bytes; } else { this.stats.rx_packets++; this.stats.rx_bytes += bytes; }
  }
  /** Frames never reach a patch port's device: there is none. */
  send(): boolean { return false; }
  setReceiveHandler(): void { /* no device, nothing arrives */ }
  close(): void { this.removeAllListeners(); }
}

export const patchNetdevClass: NetdevClass = {
  type: 'patch',
  open: (name: string) => new PatchNetdev(name),
};

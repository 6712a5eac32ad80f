// The `vxlan`, `geneve` and `gre` port types, as OVS's userspace ("native")
// tunnelling does them: no kernel device. A packet output to the port is
// encapsulated (outer Ethernet, IPv4, then UDP+VXLAN, UDP+Geneve or GRE with
// an Ethernet payload) and sent into the bridge that owns the route to
// remote_ip, as if from that bridge's local port; a tunnel packet arriving
// for a local endpoint is decapsulated and enters the datapath on this port.
// The class keeps the configuration (options) and the port's counters; the
// encapsulation happens in src/xlate and the datapath.
import { EventEmitter } from 'node:events';
import type { Netdev, NetdevClass, NetdevEvents, NetdevOptions, NetdevStats } from './netdev.js';
import { NetdevError } from './netdev.js';

/** IANA's VXLAN port, OVS's default dst_port. */
export const VXLAN_PORT = 4789;
/** IANA's Geneve port. */
export const GENEVE_PORT = 6081;

export type TunnelKind = 'vxlan' | 'geneve' | 'gre';

/** Dotted-quad text as a 32-bit number, or null. */
export function parseIp4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export const ip4Text = (v: number): string => `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;

let nextMac = 0;

/** A key option: a number, or taken from (out) / given to (in) the flow's tun_id. */
export type TunnelKey = number | 'flow';

export class TunnelNetdev extends EventEmitter<NetdevEvents> implements Netdev {
  /** options:remote_ip: the far end, or 'flow' (the flow's tun_dst says, per packet). */
  remoteIp: number | 'flow' = 0;
  /** options:local_ip, 'flow' (the flow's tun_src), or null: the source address of the route to the far end. */
  localIp: number | 'flow' | null = null;
  /** The key received packets must carry (options:in_key or key, 0 by default); 'flow' takes any, into tun_id. */
  inKey: TunnelKey = 0;
  /** The key sent (options:out_key or key, 0 by default); 'flow' sends the flow's tun_id. */
  outKey: TunnelKey = 0;
  /** Whether a key option was given (a GRE header carries a key only then, as in OVS). */
  keyPresent = false;
  /** UDP destination port (vxlan, geneve); 0 for gre. */
  dstPort: number;
  readonly kind: TunnelKind;
  private adminUp = true;
  private seq = 0;
  private readonly mac: string;
  readonly stats: NetdevStats = { rx_packets: 0, tx_packets: 0, rx_bytes: 0, tx_bytes: 0 };

  constructor(readonly name: string, readonly type: string) {
    super();
    this.kind = type === 'geneve' ? 'geneve' : type === 'gre' ? 'gre' : 'vxlan';
    this.dstPort = this.kind === 'gre' ? 0 : this.kind === 'geneve' ? GENEVE_PORT : VXLAN_PORT;
    const n = nextMac++;
    this.mac = ['aa', '77', '00', '00', ((n >> 8) & 0xff).toString(16).padStart(2, '0'), (n & 0xff).toString(16).padStart(2, '0')].join(':');
  }

  get changeSeq(): number {
    return this.seq;
  }

  setConfig(options: NetdevOptions): void {
    const remote = options.get('remote_ip');
    if (remote === undefined) throw new NetdevError('EINVAL', `${this.name}: ${this.type} type requires valid 'remote_ip' argument`);
    const remoteIp = remote === 'flow' ? 'flow' : parseIp4(remote);
    if (remoteIp === null) throw new NetdevError('EINVAL', `${this.name}: bad ${this.type} 'remote_ip' ${remote} (an IPv4 address or flow)`);
    let localIp: number | 'flow' | null = null;
    const local = options.get('local_ip');
    if (local !== undefined) {
      localIp = local === 'flow' ? 'flow' : parseIp4(local);
      if (localIp === null) throw new NetdevError('EINVAL', `${this.name}: bad ${this.type} 'local_ip' ${local} (an IPv4 address or flow)`);
    }
    const keyOf = (name: string, text: string | undefined): TunnelKey => {
      if (text === undefined) return 0;
      if (text === 'flow') return 'flow';
      const max = this.kind === 'gre' ? 0xffffffff : 0xffffff;
      if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(text) || Number(text) > max) {
        throw new NetdevError('EINVAL', `${this.name}: bad ${this.type} ${name} ${text} (${this.kind === 'gre' ? 'a 32-bit key' : 'a VNI of at most 24 bits'}, or flow)`);
      }
      return Number(text);
    };
    const both = options.get('key');
    const inKey = keyOf(options.has('in_key') ? 'in_key' : 'key', options.get('in_key') ?? both);
    const outKey = keyOf(options.has('out_key') ? 'out_key' : 'key', options.get('out_key') ?? both);
    let dstPort = this.kind === 'gre' ? 0 : this.kind === 'geneve' ? GENEVE_PORT : VXLAN_PORT;
    const dp = options.get('dst_port');
    if (dp !== undefined && this.kind === 'gre') throw new NetdevError('EINVAL', `${this.name}: gre type has no 'dst_port' option`);
    if (dp !== undefined) {
      if (!/^\d+$/.test(dp) || Number(dp) < 1 || Number(dp) > 65535) throw new NetdevError('EINVAL', `${this.name}: bad ${this.type} dst_port ${dp}`);
      dstPort = Number(dp);
    }
    for (const name of options.keys()) {
      if (!['remote_ip', 'local_ip', 'key', 'in_key', 'out_key', 'dst_port'].includes(name)) {
        throw new NetdevError('EINVAL', `${this.name}: ${this.type} type has no '${name}' option`);
      }
    }
    const keyPresent = both !== undefined || options.has('in_key') || options.has('out_key');
    if (remoteIp !== this.remoteIp || localIp !== this.localIp || inKey !== this.inKey || outKey !== this.outKey || dstPort !== this.dstPort
      || keyPresent !== this.keyPresent) {
      Object.assign(this, { remoteIp, localIp, inKey, outKey, dstPort, keyPresent });
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
  isLinkUp(): boolean { return this.adminUp; }
  linkResets(): number { return 0; }
  getMac(): string { return this.mac; }
  setMac(): void { throw new NetdevError('EOPNOTSUPP', `${this.name}: a tunnel port's address cannot be set`); }
  getMtu(): number { return 65535; }
  setMtu(): void { throw new NetdevError('EOPNOTSUPP', `${this.name}: a tunnel port has no MTU to set`); }
  getIfindex(): number | null { return null; }
  getLinkSpeed(): { bps: number; fullDuplex: boolean } | null { return null; }
  getStatus(): Record<string, string> {
    if (this.remoteIp === 'flow') return { remote_ip: 'flow' };
    return this.remoteIp ? { remote_ip: ip4Text(this.remoteIp) } : {};
  }
  getStats(): NetdevStats { return { ...this.stats }; }
  /** Counts packets encapsulated (tx) or decapsulated (rx) for this port. */
  count(bytes: number, tx: boolean, packets = 1): void {
    if (tx) { this.stats.tx_packets += packets; this.stats.tx_bytes += bytes; } else { this.stats.rx_packets += packets; this.stats.rx_bytes += bytes; }
  }
  /** The datapath sends through the underlay, never to this device: it has none. */
  send(): boolean { return false; }
  setReceiveHandler(): void { /* decapsulated packets reach the datapath directly */ }
  close(): void { this.removeAllListeners(); }
}

export const vxlanNetdevClass: NetdevClass = {
  type: 'vxlan',
  open: (name: string, type: string) => new TunnelNetdev(name, type),
};

/** The tunnel classes, one per type (registered under their own names). */
export const TUNNEL_CLASSES: readonly NetdevClass[] = [vxlanNetdevClass, { ...vxlanNetdevClass, type: 'geneve' }, { ...vxlanNetdevClass, type: 'gre' }];

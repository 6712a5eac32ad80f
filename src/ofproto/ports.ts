// A switch port as OpenFlow sees it (OVS's struct ofport): its number, name,
// address, OFPPC config and OFPPS state, and its ofp_port / port statistics
// forms in each version.

import type { Netdev } from '../netdev/index.js';
import { OFPPDPT_ETHERNET, type Port, type PortStats } from '../openflow/index.js';
import type { PortVlan, TunnelEncap, TunnelFlow, XlateBridge } from '../xlate/index.js';
import { nowMs } from './rule.js';

/** OFPPC_* (port config) bits. */
export const PC = { PORT_DOWN: 1, NO_STP: 2, NO_RECV: 4, NO_RECV_STP: 8, NO_FLOOD: 16, NO_FWD: 32, NO_PACKET_IN: 64 } as const;
/** OFPPS_* (port state) bits; LIVE is OF1.1+. */
export const PS = { LINK_DOWN: 1, BLOCKED: 2, LIVE: 4 } as const;
/** OpenFlow 1.0 can say NO_STP, NO_RECV_STP and NO_FLOOD; OF1.1+ cannot. */
const PC_MASK_10 = 0x7f;
const PC_MASK_11 = PC.PORT_DOWN | PC.NO_RECV | PC.NO_FWD | PC.NO_PACKET_IN;

/** The 16-bit OFPP_LOCAL, the bridge's own port. */
export const OFPP_LOCAL = 0xfffe;

/** OF1.0 feature bits by link speed (full duplex), then COPPER. */
const SPEED_BITS_10: ReadonlyArray<readonly [number, number]> = [[10e6, 2], [100e6, 8], [1e9, 32], [10e9, 64]];
/** OF1.1+ feature bits by link speed (full duplex). */
const SPEED_BITS_11: ReadonlyArray<readonly [number, number]> = [[10e6, 2], [100e6, 8], [1e9, 32], [10e9, 64], [40e9, 128], [100e9, 256], [1e12, 512]];

export class OfPort {
  /** OFPPC bits the controller set (PORT_MOD). */
  config = 0;
  /** The port's VLAN mode for NORMAL, from the Port row (absent: trunk of all VLANs). */
  vlan: PortVlan | undefined;
  /** For a patch port: its peer's bridge and port, looked up when a packet crosses (the peer may come and go). */
  patchPeer: (() => { readonly bridge: XlateBridge; readonly ofport: number } | undefined) | undefined;
  /** For a tunnel port: its encapsulation as the host's routes resolve it now, or why it cannot be sent yet. */
  tunnel: ((flow: TunnelFlow) => TunnelEncap | string) | undefined;
  /** The port's datapath number, once the datapath has the port. */
  odpPort: number | undefined;
  readonly created = nowMs();

  constructor(
    readonly ofport: number,
    readonly name: string,
    readonly netdev: Netdev,
  ) {
    if (!netdev.isAdminUp()) this.config |= PC.PORT_DOWN;
  }

  get hwAddr(): string {
    return this.netdev.getMac();
  }

  /** OFPPS bits: link down from the carrier, LIVE when it can forward. */
  state(version: number): number {
    const up = this.netdev.isLinkUp() && this.netdev.isAdminUp();
    if (!up) return PS.LINK_DOWN;
    return version > 1 && !(this.config & PC.PORT_DOWN) ? PS.LIVE : 0;
  }

  /** True when the port can forward (fast-failover's liveness). */
  isLive(): boolean {
    return this.netdev.isLinkUp() && this.netdev.isAdminUp() && !(this.config & PC.PORT_DOWN);
  }

  private features(version: number): { curr: number; speedKbps: number } {
    const s = this.netdev.getLinkSpeed();
    if (!s) return { curr: 0, speedKbps: 0 };
    const table = version === 1 ? SPEED_BITS_10 : SPEED_BITS_11;
    const hit = table.find(([bps]) => bps === s.bps);
    let curr = hit ? (s.fullDuplex ? hit[1] : hit[1] >> 1) : version === 1 ? 0 : 1024;
    curr |= version === 1 ? 128 : 2048; // COPPER
    return { curr, speedKbps: Math.floor(s.bps / 1000) };
  }

  /** The ofp_port of `version`. */
  describe(version: number, portNo32: (p: number) => number): Port {
    const config = this.config & (version === 1 ? PC_MASK_10 : PC_MASK_11);
    const { curr, speedKbps } = this.features(version);
    if (version === 1) {
      return { port_no: this.ofport, hw_addr: this.hwAddr, name: this.name, config, state: this.state(1), curr, advertised: 0, supported: 0, peer: 0 };
    }
    const port_no = portNo32(this.ofport);
    if (version <= 4) {
      return {
        port_no, hw_addr: this.hwAddr, name: this.name, config, state: this.state(version), curr, advertised: 0, supported: 0, peer: 0,
        curr_speed: speedKbps, max_speed: 0,
      };
    }
    return {
      port_no, hw_addr: this.hwAddr, name: this.name, config, state: this.state(version),
      properties: [{ type: OFPPDPT_ETHERNET, curr, advertised: 0, supported: 0, peer: 0, curr_speed: speedKbps, max_speed: 0 }],
    } as Port;
  }

  /** Port statistics of `version`; counters the device lacks are all ones, as OpenFlow asks. */
  stats(version: number, portNo32: (p: number) => number): PortStats {
    const s = this.netdev.getStats();
    const n = (x: number | undefined) => (x === undefined ? 0xffffffffffffffffn : BigInt(x));
    const counters = {
      rx_packets: n(s.rx_packets), tx_packets: n(s.tx_packets), rx_bytes: n(s.rx_bytes), tx_bytes: n(s.tx_bytes),
      rx_dropped: n(s.rx_dropped), tx_dropped: n(s.tx_dropped), rx_errors: n(s.rx_errors), tx_errors: n(s.tx_errors),
    };
    // No device here counts Ethernet-level errors: "unavailable" (all ones), which ovs-ofctl prints as "?".
    const none = 0xffffffffffffffffn;
    const ether = { rx_frame_err: none, rx_over_err: none, rx_crc_err: none, collisions: none };
    if (version === 1) return { port_no: this.ofport, ...counters, ...ether } as PortStats;
    const ms = Math.max(0, nowMs() - this.created);
    const duration_sec = Math.floor(ms / 1000);
    const duration_nsec = Math.floor((ms - duration_sec * 1000) * 1e6);
    const port_no = portNo32(this.ofport);
    if (version <= 4) return { port_no, ...counters, ...ether, duration_sec, duration_nsec } as PortStats;
    return { port_no, duration_sec, duration_nsec, ...counters, properties: [{ type: 0, ...ether }] } as PortStats;
  }
}

// A switch's userspace tunnel ports as translation sees them: which packets
// end at one of its tunnel endpoints and which port they arrive on (OVS's
// tnl-ports map and tnl_port_receive), and how a port encapsulates now (its
// native tunnel route and neighbour lookup on the host).

import { hostNeighbour, hostRoute, ip4Text, type TunnelNetdev } from '../netdev/index.js';
import type { Ofproto } from '../ofproto/index.js';
import type { TunnelEncap, TunnelFlow, XlateTunnels } from '../xlate/index.js';

/** A tunnel port of the switch, with its bridge and port number. */
export interface TunnelPortRef { readonly dev: TunnelNetdev; readonly bridge: Ofproto; readonly ofport: number }

/** A bridge's local port: an underlay route leaving by it has the bridge as its underlay. */
export interface UnderlayPort { readonly ofproto: Ofproto; readonly mac: string }

/** The endpoints of the tunnel ports `ports` lists (read afresh on each question). */
export function tunnelEndpoints(ports: () => Iterable<TunnelPortRef>): XlateTunnels {
  return {
    any: () => {
      for (const t of ports()) { void t; return true; }
      return false;
    },
    isEndpoint: (ipDst, nwProto, udpDst) => {
      for (const t of ports()) {
        const d = t.dev;
        const protoOk = d.kind === 'gre' ? nwProto === 47 : nwProto === 17 && d.dstPort === udpDst;
        if (!protoOk) continue;
        // The local end: local_ip, else the source of the route to a fixed remote_ip, else any address of this host.
        const local = typeof d.localIp === 'number' ? d.localIp : typeof d.remoteIp === 'number' ? hostRoute(d.remoteIp)?.src : undefined;
        if (local === undefined ? hostRoute(ipDst)?.dev === 'lo' : local === ipDst) return d.kind;
      }
      return null;
    },
    portFor: (kind, ipSrc, ipDst, key, udpDst) => {
      // As OVS's tnl_port_receive: a port with this remote_ip beats remote_ip=flow, and an exact key beats in_key=flow.
      let best: { t: TunnelPortRef; score: number } | undefined;
      for (const t of ports()) {
        const d = t.dev;
        if (d.kind !== kind || d.dstPort !== udpDst || (typeof d.localIp === 'number' && d.localIp !== ipDst)) continue;
        if ((d.remoteIp !== 'flow' && d.remoteIp !== ipSrc) || (d.inKey !== 'flow' && d.inKey !== key)) continue;
        const score = (d.remoteIp === 'flow' ? 0 : 2) + (d.inKey === 'flow' ? 0 : 1);
        if (!best || score > best.score) best = { t, score };
      }
      if (!best) return undefined;
      const { dev, bridge, ofport } = best.t;
      return { bridge, ofport, count: (bytes: number, packets = 1) => dev.count(bytes, false, packets) };
    },
  };
}

/**
 * How a tunnel port encapsulates now (OVS's native tunnel route and
 * neighbour lookup): the route to remote_ip must leave by some bridge's
 * local port, whose address is the outer source; the next hop's MAC comes
 * from the host's neighbour table (resolution is started when missing).
 */
export function tunnelEncap(dev: TunnelNetdev, flow: TunnelFlow, localPort: (dev: string) => UnderlayPort | undefined): TunnelEncap | string {
  // Options set to flow take the packet's tunnel metadata (set_field:...->tun_dst, tun_src, tun_id), as in OVS.
  const remote = dev.remoteIp === 'flow' ? flow.tunDst : dev.remoteIp;
  if (!remote) return 'remote_ip=flow and the flow sets no tun_dst';
  const route = hostRoute(remote);
  if (!route) return `no route to ${ip4Text(remote)}`;
  const underlay = localPort(route.dev);
  if (!underlay) return `the route to ${ip4Text(remote)} leaves by ${route.dev}, which is not a bridge's local port`;
  const mac = hostNeighbour(route.nexthop, route.dev);
  if (!mac) return `resolving the Ethernet address of ${ip4Text(route.nexthop)} on ${route.dev}`;
  const macNum = (m: string): bigint => BigInt(`0x${m.replace(/:/g, '')}`);
  const local = dev.localIp === 'flow' ? flow.tunSrc || route.src : dev.localIp ?? route.src;
  const flowFields = [...(dev.remoteIp === 'flow' ? ['tun_dst'] : []), ...(dev.localIp === 'flow' ? ['tun_src'] : []), ...(dev.outKey === 'flow' ? ['tun_id'] : [])];
  return {
    underlay: underlay.ofproto, ethSrc: macNum(underlay.mac), ethDst: macNum(mac), ipSrc: local, ipDst: remote,
    kind: dev.kind, keyPresent: dev.keyPresent, vni: dev.outKey === 'flow' ? flow.tunId >>> 0 : dev.outKey, dstPort: dev.dstPort,
    count: (bytes, packets = 1) => dev.count(bytes, true, packets), flowFields,
  };
}


// VXLAN the way OVS's userspace datapath does it ("native tunnelling"):
// output to a tunnel port pushes outer Ethernet/IPv4/UDP/VXLAN headers onto a
// copy of the packet and sends that copy into the underlay bridge as if it
// came from the bridge's local port (the route to the remote end leaves
// there); a VXLAN packet that the underlay would deliver to its local port,
// addressed to one of the switch's tunnel endpoints, is decapsulated instead
// and enters the bridge of the tunnel port it belongs to.

import { OFPP, type TunnelEncap, type XlateTunnels } from './bridge.js';
import type { XlateContext } from './context.js';
import { commit } from './odp.js';
import { getNum, mark, newKey, port32, set } from './key.js';
import { macTableOf } from './mac-learning.js';
import { translate } from './xlate.js';

const ETH_IP = 0x0800;
const UDP = 17;
/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8). */
export const VXLAN_OVERHEAD = 50;
const VXLAN_FLAG_VNI = 0x08;

/** A source port from the inner flow, in the range OVS uses (32768-61000), so underlay ECMP can spread tunnels' flows. */
function sourcePort(key: Uint32Array): number {
  let h = 0x9e3779b9;
  for (const n of ['eth_src', 'eth_dst', 'ip_src', 'ip_dst', 'nw_proto', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst']) {
    h = Math.imul(h ^ getNum(key, n), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return 32768 + (h % (61000 - 32768));
}

function ipChecksum(b: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[at + i]! << 8) | b[at + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The encapsulated copy of `inner` (OVS's tnl_push): DF set, TTL 64, no UDP checksum, as OVS sends VXLAN by default. */
export function encapsulate(enc: TunnelEncap, srcPort: number, inner: Uint8Array): Uint8Array {
  const b = new Uint8Array(VXLAN_OVERHEAD + inner.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, Number((enc.ethDst >> 32n) & 0xffffn));
  dv.setUint32(2, Number(enc.ethDst & 0xffffffffn));
  dv.setUint16(6, Number((enc.ethSrc >> 32n) & 0xffffn));
  dv.setUint32(8, Number(enc.ethSrc & 0xffffffffn));
  dv.setUint16(12, ETH_IP);
  const ipLen = 20 + 8 + 8 + inner.length;
  b[14] = 0x45;
  dv.setUint16(16, ipLen);
  dv.setUint16(20, 0x4000);
  b[22] = 64;
  b[23] = UDP;
  dv.setUint32(26, enc.ipSrc);
  dv.setUint32(30, enc.ipDst);
  dv.setUint16(24, ipChecksum(b, 14));
  dv.setUint16(34, srcPort);
  dv.setUint16(36, enc.dstPort);
  dv.setUint16(38, 8 + 8 + inner.length);
  b[42] = VXLAN_FLAG_VNI;
  dv.setUint32(46, (enc.vni << 8) >>> 0);
  b.set(inner, VXLAN_OVERHEAD);
  return b;
}

/** The outer addresses, port and VNI of a VXLAN frame (IPv4 header of any length), and the inner frame; null if it is not one. */
export function decapsulate(f: Uint8Array): { ipSrc: number; ipDst: number; udpDst: number; vni: number; inner: Uint8Array } | null {
  if (f.length < 14 + 20 + 16) return null;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (dv.getUint16(12) !== ETH_IP || (f[14]! >> 4) !== 4 || f[23] !== UDP) return null;
  const ihl = (f[14]! & 0xf) * 4;
  // A fragment cannot be decapsulated on its own.
  if (ihl < 20 || (dv.getUint16(20) & 0x3fff) !== 0) return null;
  const udp = 14 + ihl;
  if (f.length < udp + 16 || !(f[udp + 8]! & VXLAN_FLAG_VNI)) return null;
  return {
    ipSrc: dv.getUint32(26), ipDst: dv.getUint32(30), udpDst: dv.getUint16(udp + 2), vni: dv.getUint32(udp + 12) >>> 8,
    inner: f.subarray(udp + 16),
  };
}

/**
 * Output to a tunnel port: the packet as the flow has made it is committed,
 * then a copy is encapsulated and translated through the underlay bridge
 * from its local port (whose actions, usually an output on the physical
 * port, the datapath runs on the copy).
 */
export function tunnelOutput(ctx: XlateContext, encOrWhy: TunnelEncap | string): void {
  if (typeof encOrWhy === 'string') {
    ctx.report('warn', `native tunnel output not ready: ${encOrWhy}`);
    ctx.noCache = true;
    return;
  }
  const enc = encOrWhy;
  commit(ctx);
  const srcPort = sourcePort(ctx.key);
  const outer = newKey();
  set(outer, 'in_port', port32(OFPP.LOCAL));
  set(outer, 'eth_src', enc.ethSrc);
  set(outer, 'eth_dst', enc.ethDst);
  set(outer, 'eth_type', ETH_IP);
  set(outer, 'ip_src', enc.ipSrc);
  set(outer, 'ip_dst', enc.ipDst);
  set(outer, 'nw_proto', UDP);
  set(outer, 'nw_ttl', 64);
  set(outer, 'udp_src', srcPort);
  set(outer, 'udp_dst', enc.dstPort);
  const res = translate({
    bridge: enc.underlay, mac: macTableOf(enc.underlay), flow: outer, inPort: OFPP.LOCAL, trace: ctx.tracing,
    sideEffects: ctx.sideEffects, credit: ctx.credit, packet: null,
  });
  if (res.error) {
    ctx.report('warn', `native tunnel output failed in bridge ${enc.underlay.name}: ${res.error}`);
    return;
  }
  if (res.noCache) ctx.noCache = true;
  for (const n of res.trace) ctx.trace?.push(n);
  const text = `tnl_push(header(vxlan(vni=0x${enc.vni.toString(16)})),out_port(${res.odp.length ? res.odp.join(',') : 'drop'}))`;
  ctx.emit({ type: 'tunnel_push', enc, srcPort, actions: res.dp }, text);
}

/**
 * Output to a bridge's local port of a packet for one of the switch's
 * tunnel endpoints: decapsulate rather than deliver (OVS's tnl_pop). The
 * megaflow must say why: it matches the outer protocol, address and port.
 */
export function tunnelReceive(ctx: XlateContext, tunnels: XlateTunnels | undefined): boolean {
  if (!tunnels || getNum(ctx.key, 'eth_type') !== ETH_IP) return false;
  mark(ctx.wc, 'nw_proto');
  if (getNum(ctx.key, 'nw_proto') !== UDP) return false;
  mark(ctx.wc, 'ip_dst');
  mark(ctx.wc, 'udp_dst');
  mark(ctx.wc, 'ip_frag');
  if (getNum(ctx.key, 'ip_frag') !== 0) return false;
  if (!tunnels.isEndpoint(getNum(ctx.key, 'ip_dst'), getNum(ctx.key, 'udp_dst'))) return false;
  commit(ctx);
  ctx.emit({ type: 'tunnel_pop', tunnels }, 'tnl_pop(vxlan)');
  return true;
}

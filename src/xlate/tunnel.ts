// VXLAN the way OVS's userspace datapath does it ("native tunnelling"):
// output to a tunnel port pushes outer Ethernet/IPv4/UDP/VXLAN headers onto a
// copy of the packet and sends that copy into the underlay bridge as if it
// came from the bridge's local port (the route to the remote end leaves
// there); a VXLAN packet that the underlay would deliver to its local port,
// addressed to one of the switch's tunnel endpoints, is decapsulated instead
// and enters the bridge of the tunnel port it belongs to.

import { OFPP, type TunnelEncap, type TunnelKind, type XlateTunnels } from './bridge.js';
import type { XlateContext } from './context.js';
import { commit } from './odp.js';
import { getNum, mark, newKey, port32, set } from './key.js';
import { macTableOf } from './mac-learning.js';
import { translate } from './xlate.js';

const ETH_IP = 0x0800;
const UDP = 17;
const GRE = 47;
/** Transparent Ethernet bridging: the payload type of Geneve and GRE carrying whole frames. */
const ETH_TEB = 0x6558;
/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8). */
export const VXLAN_OVERHEAD = 50;
const VXLAN_FLAG_VNI = 0x08;
const GRE_KEY_PRESENT = 0x2000;

/** Bytes the tunnel header adds after the outer IPv4 header. */
function tunnelHeaderLen(enc: Pick<TunnelEncap, 'kind' | 'keyPresent'>): number {
  if (enc.kind === 'gre') return enc.keyPresent ? 8 : 4;
  return 8 + 8;
}

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

/**
 * The encapsulated copy of `inner` (OVS's tnl_push): outer Ethernet and IPv4
 * (DF set, TTL 64), then UDP without a checksum and the VXLAN or Geneve
 * header, or a GRE header (with the key when one is configured).
 */
export function encapsulate(enc: TunnelEncap, srcPort: number, inner: Uint8Array): Uint8Array {
  const hdr = tunnelHeaderLen(enc);
  const b = new Uint8Array(34 + hdr + inner.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, Number((enc.ethDst >> 32n) & 0xffffn));
  dv.setUint32(2, Number(enc.ethDst & 0xffffffffn));
  dv.setUint16(6, Number((enc.ethSrc >> 32n) & 0xffffn));
  dv.setUint32(8, Number(enc.ethSrc & 0xffffffffn));
  dv.setUint16(12, ETH_IP);
  b[14] = 0x45;
  dv.setUint16(16, 20 + hdr + inner.length);
  dv.setUint16(20, 0x4000);
  b[22] = 64;
  b[23] = enc.kind === 'gre' ? GRE : UDP;
  dv.setUint32(26, enc.ipSrc);
  dv.setUint32(30, enc.ipDst);
  dv.setUint16(24, ipChecksum(b, 14));
  if (enc.kind === 'gre') {
    dv.setUint16(34, enc.keyPresent ? GRE_KEY_PRESENT : 0);
    dv.setUint16(36, ETH_TEB);
    if (enc.keyPresent) dv.setUint32(38, enc.vni >>> 0);
  } else {
    dv.setUint16(34, srcPort);
    dv.setUint16(36, enc.dstPort);
    dv.setUint16(38, 8 + 8 + inner.length);
    if (enc.kind === 'vxlan') {
      b[42] = VXLAN_FLAG_VNI;
    } else {
      dv.setUint16(44, ETH_TEB);
    }
    dv.setUint32(46, (enc.vni << 8) >>> 0);
  }
  b.set(inner, 34 + hdr);
  return b;
}

/** Where a tunnel packet's headers say it goes and what it carries. */
export interface Decapsulated { ipSrc: number; ipDst: number; udpDst: number; key: number; inner: Uint8Array }

/** The outer addresses, UDP port (0 for GRE) and key/VNI of a `kind` tunnel frame, and the inner frame; null if it is not one. */
export function decapsulate(f: Uint8Array, kind: TunnelKind = 'vxlan'): Decapsulated | null {
  if (f.length < 14 + 20 + 4) return null;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (dv.getUint16(12) !== ETH_IP || (f[14]! >> 4) !== 4) return null;
  const ihl = (f[14]! & 0xf) * 4;
  // A fragment cannot be decapsulated on its own.
  if (ihl < 20 || (dv.getUint16(20) & 0x3fff) !== 0) return null;
  const l4 = 14 + ihl;
  const ipSrc = dv.getUint32(26);
  const ipDst = dv.getUint32(30);
  if (kind === 'gre') {
    if (f[23] !== GRE || f.length < l4 + 4) return null;
    const flags = dv.getUint16(l4);
    // Checksum, routing, sequence numbers and versions other than 0 are refused (OVS does not take them either).
    if ((flags & ~GRE_KEY_PRESENT) !== 0 || dv.getUint16(l4 + 2) !== ETH_TEB) return null;
    const keyed = (flags & GRE_KEY_PRESENT) !== 0;
    if (f.length < l4 + (keyed ? 8 : 4)) return null;
    return { ipSrc, ipDst, udpDst: 0, key: keyed ? dv.getUint32(l4 + 4) : 0, inner: f.subarray(l4 + (keyed ? 8 : 4)) };
  }
  if (f[23] !== UDP || f.length < l4 + 16) return null;
  const udpDst = dv.getUint16(l4 + 2);
  const t = l4 + 8;
  if (kind === 'vxlan') {
    if (!(f[t]! & VXLAN_FLAG_VNI)) return null;
    return { ipSrc, ipDst, udpDst, key: dv.getUint32(t + 4) >>> 8, inner: f.subarray(t + 8) };
  }
  // Geneve: version 0, options skipped (their length in 4-byte words), an Ethernet payload only.
  const optLen = (f[t]! & 0x3f) * 4;
  if (f[t]! >> 6 !== 0 || dv.getUint16(t + 2) !== ETH_TEB || f.length < t + 8 + optLen) return null;
  return { ipSrc, ipDst, udpDst, key: dv.getUint32(t + 4) >>> 8, inner: f.subarray(t + 8 + optLen) };
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
  set(outer, 'nw_proto', enc.kind === 'gre' ? GRE : UDP);
  set(outer, 'nw_ttl', 64);
  if (enc.kind !== 'gre') {
    set(outer, 'udp_src', srcPort);
    set(outer, 'udp_dst', enc.dstPort);
  }
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
  const text = `tnl_push(header(${enc.kind}(${enc.kind === 'gre' ? 'key' : 'vni'}=0x${enc.vni.toString(16)})),out_port(${res.odp.length ? res.odp.join(',') : 'drop'}))`;
  ctx.emit({ type: 'tunnel_push', enc, srcPort, actions: res.dp }, text);
}

/**
 * Output to a bridge's local port of a packet for one of the switch's
 * tunnel endpoints: decapsulate rather than deliver (OVS's tnl_pop). The
 * megaflow must say why: it matches the outer protocol, address and port.
 */
export function tunnelReceive(ctx: XlateContext, tunnels: XlateTunnels | undefined): boolean {
  if (!tunnels?.any() || getNum(ctx.key, 'eth_type') !== ETH_IP) return false;
  mark(ctx.wc, 'nw_proto');
  const proto = getNum(ctx.key, 'nw_proto');
  if (proto !== UDP && proto !== GRE) return false;
  mark(ctx.wc, 'ip_dst');
  mark(ctx.wc, 'ip_frag');
  if (proto === UDP) mark(ctx.wc, 'udp_dst');
  if (getNum(ctx.key, 'ip_frag') !== 0) return false;
  const kind = tunnels.isEndpoint(getNum(ctx.key, 'ip_dst'), proto, proto === UDP ? getNum(ctx.key, 'udp_dst') : 0);
  if (!kind) return false;
  commit(ctx);
  ctx.emit({ type: 'tunnel_pop', tunnels, kind }, `tnl_pop(${kind})`);
  return true;
}

// Tunnels the way OVS's userspace datapath does them ("native tunnelling"):
// output to a tunnel port pushes outer Ethernet/IPv4 and UDP+VXLAN,
// UDP+Geneve or GRE headers onto the packet (tnl_push, on a copy when more
// follows) and continues as if it came from the underlay bridge's local port
// (the route to the remote end leaves there); a tunnel packet that the
// underlay would deliver to its local port, addressed to one of the switch's
// tunnel endpoints, is decapsulated instead (tnl_pop) and comes in again by
// the tunnel's datapath port, where its metadata names its tunnel port.
// The header codec itself is the datapath's (src/dpif/tunnel-header.ts).

import {
  GENEVE_CRIT_TYPE, GENEVE_MAX_OPTS, encodeGeneveOption, forEachGeneveOption, formatTunnelHeader, parseTunnelFrame, pushTunnelHeader,
  tunnelHeader, type TunnelMetadata,
} from '../dpif/index.js';
import {
  TUN_MD_PRESENT_WORD, readTunMetadata, setTunMetadataPresent, tunMetadataPresentMap, writeTunMetadata, type TunMetadataLayout,
} from '../flow/index.js';
import { OFPP, type TunnelEncap, type TunnelKind, type XlateTunnels } from './bridge.js';
import type { XlateContext } from './context.js';
import { commit } from './odp.js';
import { get, getNum, mark, newKey, port32, set } from './key.js';
import { macTableOf } from './mac-learning.js';
import { translate } from './xlate.js';

const ETH_IP = 0x0800;
const UDP = 17;
const GRE = 47;
/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8). */
export const VXLAN_OVERHEAD = 50;

/** A source port from the inner flow, in the range OVS uses (32768-61000), so underlay ECMP can spread tunnels' flows. */
function sourcePort(key: Uint32Array): number {
  let h = 0x9e3779b9;
  for (const n of ['eth_src', 'eth_dst', 'ip_src', 'ip_dst', 'nw_proto', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst']) {
    h = Math.imul(h ^ getNum(key, n), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
  }
  return 32768 + (h % (61000 - 32768));
}

/**
 * The encapsulated copy of `inner` (OVS's tnl_push, for packets that do not
 * go through the datapath such as packet-outs): the datapath's header,
 * finished for this packet, with `srcPort` as the UDP source port.
 */
export function encapsulate(enc: TunnelEncap, srcPort: number, inner: Uint8Array): Uint8Array {
  const header = tunnelHeader(enc);
  const b = new Uint8Array(header.length + inner.length);
  b.set(inner, header.length);
  pushTunnelHeader(b, header.length, inner.length, header);
  if (enc.kind !== 'gre') {
    b[34] = srcPort >>> 8;
    b[35] = srcPort & 0xff;
  }
  return b;
}

/** Where a tunnel packet's headers say it goes and what it carries (Geneve: its options, still encoded). */
export interface Decapsulated { ipSrc: number; ipDst: number; udpDst: number; key: number; inner: Uint8Array; opts: Uint8Array }

/** The outer addresses, UDP port (0 for GRE) and key/VNI of a `kind` tunnel frame, and the inner frame; null if it is not one. */
export function decapsulate(f: Uint8Array, kind: TunnelKind = 'vxlan'): Decapsulated | null {
  const m: TunnelMetadata = { ipSrc: 0, ipDst: 0, udpDst: 0, key: 0, keyPresent: false, inner: 0, optsAt: 0, optsLen: 0 };
  if (!parseTunnelFrame(f, 0, f.length, kind, m)) return null;
  const opts = f.subarray(m.optsAt ?? 0, (m.optsAt ?? 0) + (m.optsLen ?? 0));
  return { ipSrc: m.ipSrc, ipDst: m.ipDst, udpDst: m.udpDst, key: m.key, inner: f.subarray(m.inner), opts };
}

/**
 * The Geneve options a flow's present tun_metadata fields make, by field number, each as its mapping says
 * (class, type, mapped length), as OVS's tun_metadata_to_geneve_header; undefined when none is present.
 */
export function geneveOptionsOf(key: Uint32Array, tlv: TunMetadataLayout | undefined): Uint8Array | undefined {
  let bits = tunMetadataPresentMap(key);
  if (!bits || !tlv) return undefined;
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; bits; i++, bits >>= 1n) {
    if (!(bits & 1n)) continue;
    const loc = tlv.get(i);
    if (!loc || loc.optionClass === undefined || loc.optionType === undefined) continue;
    if (size + 4 + loc.len > GENEVE_MAX_OPTS) break;
    const opt = encodeGeneveOption(loc.optionClass, loc.optionType, readTunMetadata(key, loc), loc.len);
    parts.push(opt);
    size += opt.length;
  }
  if (!parts.length) return undefined;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * A received packet's Geneve options into its flow key (OVS's tun_metadata_from_geneve_udpif): an option
 * mapped to tun_metadataN with the mapped length fills that field and makes it present; others are skipped,
 * except that an unknown option with the critical bit makes the packet one the switch must drop (false).
 */
export function geneveOptionsToKey(opts: Uint8Array, key: Uint32Array, tlv: TunMetadataLayout | undefined): boolean {
  let ok = true;
  const wellFormed = forEachGeneveOption(opts, 0, opts.length, (cls, type, dataAt, dataLen) => {
    const i = tlv?.indexOf?.(cls, type);
    const loc = i === undefined ? undefined : tlv?.get(i);
    if (i === undefined || !loc || loc.len !== dataLen) {
      if (type & GENEVE_CRIT_TYPE) ok = false;
      return;
    }
    let v = 0n;
    for (let k = 0; k < dataLen; k++) v = (v << 8n) | BigInt(opts[dataAt + k]!);
    writeTunMetadata(key, loc, v);
    setTunMetadataPresent(key, i, true);
  });
  return ok && wellFormed;
}

/**
 * Output to a tunnel port: the packet as the flow has made it is committed,
 * then a copy is encapsulated and translated through the underlay bridge
 * from its local port (whose actions, usually an output on the physical
 * port, the datapath runs on the copy).
 */
export function tunnelOutput(ctx: XlateContext, encOrWhy: TunnelEncap | string, tnlPort?: number): void {
  if (typeof encOrWhy === 'string') {
    ctx.report('warn', `native tunnel output not ready: ${encOrWhy}`);
    ctx.noCache = true;
    return;
  }
  let enc = encOrWhy;
  // Options set to flow made the encapsulation depend on the flow's tunnel metadata.
  for (const f of enc.flowFields ?? []) mark(ctx.wc, f);
  if (enc.kind === 'geneve') {
    // The flow's present tun_metadata fields go out as Geneve options: the megaflow depends on which are present and their bytes.
    const opts = geneveOptionsOf(ctx.key, ctx.bridge.tlvTable);
    const p = TUN_MD_PRESENT_WORD(ctx.wc.length);
    ctx.wc[p] = 0xffffffff;
    ctx.wc[p + 1] = 0xffffffff;
    if (opts) {
      let bits = tunMetadataPresentMap(ctx.key);
      for (let i = 0; bits; i++, bits >>= 1n) {
        const loc = bits & 1n ? ctx.bridge.tlvTable?.get(i) : undefined;
        if (loc) writeTunMetadata(ctx.wc, loc, (1n << BigInt(8 * loc.len)) - 1n);
      }
      enc = { ...enc, geneveOpts: opts };
    }
  }
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
  // As dpctl prints it: the datapath's tunnel port and the underlay's local port where the datapath has them, then what the underlay does.
  const local = enc.underlay.ports.get(OFPP.LOCAL)?.odpPort ?? OFPP.LOCAL;
  const text = `tnl_push(tnl_port(${tnlPort ?? 0}),${formatTunnelHeader(tunnelHeader(enc), enc.kind)},out_port(${local}))${res.odp.length ? `,${res.odp.join(',')}` : ''}`;
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
  // As OVS's terminate_native_tunnel: only a frame addressed to the local port's own MAC is for the endpoint.
  const local = ctx.bridge.ports.get(OFPP.LOCAL)?.netdev.getMac?.();
  if (local) {
    mark(ctx.wc, 'eth_dst');
    if (get(ctx.key, 'eth_dst') !== BigInt(`0x${local.replace(/:/g, '')}`)) return false;
  }
  const kind = tunnels.isEndpoint(getNum(ctx.key, 'ip_dst'), proto, proto === UDP ? getNum(ctx.key, 'udp_dst') : 0);
  if (!kind) return false;
  commit(ctx);
  ctx.emit({ type: 'tunnel_pop', tunnels, kind, udpDst: proto === UDP ? getNum(ctx.key, 'udp_dst') : 0 }, `tnl_pop(${kind})`);
  return true;
}

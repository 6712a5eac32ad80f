// Datapath actions: what a translation tells the datapath to do with the
// packet, and their text in OVS's ODP syntax for the trace. Header changes
// are committed lazily, as OVS does: only when the packet leaves (output,
// controller) are the differences between the flow and the packet written
// down as set/push/pop actions.

import type { TunnelEncap, TunnelKind, XlateBridge, XlatePacketIn, XlateTunnels } from './bridge.js';
import type { XlateContext } from './context.js';
import { ETH_TYPE, VLAN_CFI, get, getNum, isIp, isMpls, mark, set } from './key.js';
import { TPID_8021Q, type WireTag } from './vlan.js';

export type DpAction =
  /** The packet's headers change from those of flow `from` to those of flow `key`. */
  | { readonly type: 'set'; readonly from: Uint32Array; readonly key: Uint32Array }
  /** Send on a port (16-bit ofport); maxLen > 0 truncates the copy sent. */
  | { readonly type: 'output'; readonly port: number; readonly maxLen: number; /** The port's bridge, when a patch port took the packet out of the one it entered. */ readonly bridge?: XlateBridge }
  /** Send to the controllers: everything of the packet-in but the frame, which execution fills in. */
  | { readonly type: 'controller'; readonly pin: Omit<XlatePacketIn, 'frame'> }
  /** Run the packet through a meter; it stops here when the meter drops it. */
  | { readonly type: 'meter'; readonly id: number }
  /** Insert an MPLS label stack entry after the Ethernet (and VLAN) header, with this ethertype. */
  | { readonly type: 'push_mpls'; readonly ethertype: number; readonly lse: number }
  /** Remove the outermost MPLS label; the frame's ethertype becomes this. */
  | { readonly type: 'pop_mpls'; readonly ethertype: number }
  /** A copy of the packet, VXLAN-encapsulated, then `actions` (the underlay bridge's, from its local port); the packet itself is unchanged. */
  | { readonly type: 'tunnel_push'; readonly enc: TunnelEncap; readonly srcPort: number; readonly actions: readonly DpAction[] }
  /** The packet is VXLAN for one of the switch's tunnel ports: decapsulate it and let it in there. */
  | { readonly type: 'tunnel_pop'; readonly tunnels: XlateTunnels; readonly kind: TunnelKind; readonly udpDst: number }
  /** Remove the outermost VLAN header. */
  | { readonly type: 'pop_vlan' }
  /** Insert a VLAN header after the Ethernet addresses; `tci` has the CFI bit set (it is cleared on the wire). */
  | { readonly type: 'push_vlan'; readonly tpid: number; readonly tci: number };

const mac = (v: bigint): string => v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
const ip4 = (v: bigint): string => [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
function ip6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

const ETH_NSH = 0x894f;

type Fmt = (v: bigint) => string;
const dec: Fmt = (v) => String(v);
const hex: Fmt = (v) => `0x${v.toString(16)}`;

/** A set(...) of the fields that differ, marking each in the wildcard mask. */
function setOf(ctx: XlateContext, b: Uint32Array, kind: string, fields: ReadonlyArray<readonly [string, string, Fmt]>): string | null {
  const parts: string[] = [];
  for (const [name, odpName, fmt] of fields) {
    const v = get(b, name);
    if (v !== get(ctx.committed, name)) {
      parts.push(`${odpName}=${fmt(v)}`);
      mark(ctx.wc, name);
    }
  }
  return parts.length ? `set(${kind}(${parts.join(',')}))` : null;
}

function mplsLse(key: Uint32Array): string {
  return `label=${get(key, 'mpls_label')},tc=${get(key, 'mpls_tc')},ttl=${get(key, 'mpls_ttl')},bos=${get(key, 'mpls_bos')}`;
}

const L4 = new Map<number, readonly [string, string, string]>([[6, ['tcp', 'tcp_src', 'tcp_dst']], [17, ['udp', 'udp_src', 'udp_dst']], [132, ['sctp', 'sctp_src', 'sctp_dst']]]);

/**
 * Writes down the header changes made since the last commit (OVS's
 * commit_odp_actions): ethernet, MPLS pop, L3, L4, MPLS push, VLAN.
 */
export function commit(ctx: XlateContext): void {
  const a = ctx.committed;
  let b = ctx.key;
  if (isIp(b) && getNum(b, 'nw_proto') === 0 && getNum(a, 'eth_type') === getNum(b, 'eth_type')) {
    // No L3 protocol: OVS does not trust the packet to carry a full IP header and leaves it alone.
    b = Uint32Array.from(b);
    for (const n of L3_FIELDS) set(b, n, get(a, n));
  }
  let same = ctx.committedTpid === ctx.tpid && sameTags(ctx.committedOuter, ctx.outerVlans);
  for (let i = 0; same && i < a.length; i++) if (a[i] !== b[i]) same = false;
  if (same) return;
  const out: string[] = [];
  const dp: DpAction[] = [];
  const push = (s: string | null) => { if (s) out.push(s); };
  const wasMpls = isMpls(a);
  const nowMpls = isMpls(b);
  const t = getNum(b, 'eth_type');
  // The frame changes in steps the executor can follow: a pop first, a push last.
  let from = Uint32Array.from(a);
  if (wasMpls && !nowMpls) {
    const mid = Uint32Array.from(a);
    set(mid, 'eth_type', t);
    for (const n of MPLS_FIELDS) set(mid, n, 0);
    dp.push({ type: 'pop_mpls', ethertype: t });
    from = mid;
  }
  let to: Uint32Array = b;
  if (!wasMpls && nowMpls) {
    to = Uint32Array.from(b);
    set(to, 'eth_type', getNum(a, 'eth_type'));
    for (const n of MPLS_FIELDS) set(to, n, get(a, n));
  }
  // VLAN headers change by explicit pops and pushes (below), never inside the set.
  const toKey = Uint32Array.from(to);
  set(toKey, 'vlan_tci', getNum(from, 'vlan_tci'));
  dp.push({ type: 'set', from, key: toKey });
  if (!wasMpls && nowMpls) dp.push({ type: 'push_mpls', ethertype: t, lse: lseOf(b) });

  push(setOf(ctx, b, 'eth', [['eth_src', 'src', mac], ['eth_dst', 'dst', mac]]));
  if (wasMpls && !nowMpls) out.push(`pop_mpls(eth_type=0x${t.toString(16)})`);
  if (!wasMpls && !nowMpls) {
    if (t === ETH_TYPE.IP) {
      push(setOf(ctx, b, 'ipv4', [['ip_src', 'src', ip4], ['ip_dst', 'dst', ip4], ['ip_tos', 'tos', hex], ['nw_ttl', 'ttl', dec]]));
    } else if (t === ETH_TYPE.IPV6) {
      push(setOf(ctx, b, 'ipv6', [['ipv6_src', 'src', ip6], ['ipv6_dst', 'dst', ip6], ['ipv6_label', 'label', dec], ['ip_tos', 'tclass', hex], ['nw_ttl', 'hlimit', dec]]));
    } else if (t === ETH_TYPE.ARP || t === ETH_TYPE.RARP) {
      push(setOf(ctx, b, 'arp', [['arp_spa', 'sip', ip4], ['arp_tpa', 'tip', ip4], ['arp_op', 'op', dec], ['arp_sha', 'sha', mac], ['arp_tha', 'tha', mac]]));
    }
    const l4 = (t === ETH_TYPE.IP || t === ETH_TYPE.IPV6) ? L4.get(getNum(b, 'nw_proto')) : undefined;
    if (l4) push(setOf(ctx, b, l4[0], [[l4[1], 'src', dec], [l4[2], 'dst', dec]]));
    if (t === ETH_TYPE.IP && getNum(b, 'nw_proto') === 1) push(setOf(ctx, b, 'icmp', [['icmp_type', 'type', dec], ['icmp_code', 'code', dec]]));
    if (t === ETH_TYPE.IPV6 && getNum(b, 'nw_proto') === 58) {
      push(setOf(ctx, b, 'icmpv6', [['icmpv6_type', 'type', dec], ['icmpv6_code', 'code', dec]]));
      const nd = getNum(b, 'icmpv6_type');
      if ((nd === 135 || nd === 136) && getNum(b, 'icmpv6_code') === 0) {
        push(setOf(ctx, b, 'nd', [['nd_target', 'target', ip6], ['nd_sll', 'sll', mac], ['nd_tll', 'tll', mac]]));
        push(setOf(ctx, b, 'nd_ext', [['nd_reserved', 'nd_reserved', hex], ['nd_options_type', 'nd_options_type', dec]]));
      }
    }
    if (t === ETH_NSH) {
      push(setOf(ctx, b, 'nsh', [['nsh_flags', 'flags', dec], ['nsh_ttl', 'ttl', dec], ['nsh_spi', 'spi', hex], ['nsh_si', 'si', dec],
        ['nsh_c1', 'c1', hex], ['nsh_c2', 'c2', hex], ['nsh_c3', 'c3', hex], ['nsh_c4', 'c4', hex]]));
    }
  }
  if (!wasMpls && nowMpls) {
    out.push(`push_mpls(${mplsLse(b)},eth_type=0x${t.toString(16)})`);
  } else if (wasMpls && nowMpls && mplsLse(a) !== mplsLse(b)) {
    out.push(`set(mpls(${mplsLse(b)}))`);
  }
  commitVlans(ctx, a, b, dp, out);
  a.set(b);
  ctx.committedTpid = ctx.tpid;
  ctx.committedOuter = [...ctx.outerVlans];
  if (out.length) {
    ctx.dp.push(...dp);
    ctx.odp.push(out.join(','));
  }
}

function tagsOf(key: Uint32Array, outer: readonly WireTag[], tpid: number): WireTag[] {
  const tci = getNum(key, 'vlan_tci');
  return tci & VLAN_CFI ? [...outer, { tpid, tci }] : [...outer];
}

function sameTags(x: readonly WireTag[], y: readonly WireTag[]): boolean {
  return x.length === y.length && x.every((t, i) => t.tpid === y[i]!.tpid && t.tci === y[i]!.tci);
}

/**
 * The VLAN part of a commit (OVS's commit_vlan_action): the innermost tags
 * both stacks share stay; the committed tags above them are popped and the
 * wanted ones pushed, innermost first. Popping the tag the packet came with
 * makes the whole TCI part of the megaflow.
 */
function commitVlans(ctx: XlateContext, a: Uint32Array, b: Uint32Array, dp: DpAction[], out: string[]): void {
  const have = tagsOf(a, ctx.committedOuter, ctx.committedTpid);
  const want = tagsOf(b, ctx.outerVlans, ctx.tpid);
  let common = 0;
  while (common < have.length && common < want.length) {
    const x = have[have.length - 1 - common]!;
    const y = want[want.length - 1 - common]!;
    if (x.tpid !== y.tpid || x.tci !== y.tci) break;
    common++;
  }
  const pops = have.length - common;
  if (pops > ctx.committedOuter.length && getNum(ctx.base, 'vlan_tci') & VLAN_CFI) {
    mark(ctx.wc, 'vlan_tci');
  }
  for (let i = 0; i < pops; i++) {
    dp.push({ type: 'pop_vlan' });
    out.push('pop_vlan');
  }
  for (let i = want.length - common - 1; i >= 0; i--) {
    const t = want[i]!;
    dp.push({ type: 'push_vlan', tpid: t.tpid, tci: t.tci });
    out.push(`push_vlan(${t.tpid !== TPID_8021Q ? `tpid=0x${t.tpid.toString(16).padStart(4, '0')},` : ''}vid=${t.tci & 0xfff},pcp=${t.tci >> 13})`);
  }
}

const MPLS_FIELDS = ['mpls_label', 'mpls_tc', 'mpls_ttl', 'mpls_bos'] as const;
const L3_FIELDS = ['ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_label', 'ip_tos', 'nw_ttl'] as const;

function lseOf(key: Uint32Array): number {
  return ((getNum(key, 'mpls_label') << 12) | (getNum(key, 'mpls_tc') << 9) | (getNum(key, 'mpls_bos') << 8) | getNum(key, 'mpls_ttl')) >>> 0;
}

/** The ODP text of an output port (datapath port numbers are ofports until tsw has a datapath). */
/** A port as datapath actions name it: its datapath port number when a datapath has one for it, else its OpenFlow number. */
export function odpPort(port: number, bridge?: XlateBridge): string {
  return String(bridge?.ports.get(port)?.odpPort ?? port);
}

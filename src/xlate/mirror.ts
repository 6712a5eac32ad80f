// Port mirroring (OVS's ofproto-dpif-mirror and mirror_packet): a mirror
// selects packets entering (select_src_port) or leaving (select_dst_port)
// ports, or all of them (select_all), optionally only in some VLANs
// (select_vlan), and sends a copy to one port (output_port, which then
// carries nothing else) or floods it in a VLAN (output_vlan, RSPAN). A packet
// is copied to each output at most once, however many mirrors select it.

import { OFPP, type XlateBridge, type XlatePort } from './bridge.js';
import type { XlateContext } from './context.js';
import { get, mark } from './key.js';
import { isReservedMac, outputNormal, portVlan, portsInOrder } from './normal.js';
import { cloneXvlan, extractXvlan, includesVlan, inputTranslate, inputVidIsValid } from './vlan.js';

/** OVS's limit on mirrors per bridge (a mirror is one bit of a 32-bit mask). */
export const MAX_MIRRORS = 32;

/** One Mirror row, with ports as OpenFlow port numbers. */
export interface XlateMirror {
  readonly name: string;
  /** Ports whose received packets are selected. */
  readonly srcPorts: ReadonlySet<number>;
  /** Ports whose sent packets are selected. */
  readonly dstPorts: ReadonlySet<number>;
  /** VLANs selected (select_vlan); null: every VLAN. */
  readonly vlans: ReadonlySet<number> | null;
  /** Where copies go: a port (output_port) ... */
  readonly outPort: number | null;
  /** ... or a VLAN (output_vlan), when there is no output port. */
  readonly outVlan: number | null;
  /** Bytes of each copy kept (Mirror.snaplen); 0 or absent: all. */
  readonly snaplen?: number;
  /** Copies sent (Mirror.statistics tx_packets, tx_bytes). */
  packets: number;
  bytes: number;
}

/** Mirrors of bridges that do not carry their own list (keyed weakly by the bridge object). */
const configured = new WeakMap<object, readonly XlateMirror[]>();

/** Sets a bridge's mirrors (from the Mirror table); at most MAX_MIRRORS are used, in list order. */
export function setMirrors(bridge: object, mirrors: readonly XlateMirror[]): void {
  if (mirrors.length) configured.set(bridge, mirrors.slice(0, MAX_MIRRORS));
  else configured.delete(bridge);
}

export function mirrorsOf(bridge: XlateBridge): readonly XlateMirror[] {
  return bridge.mirrors ?? configured.get(bridge) ?? [];
}

function maskOf(bridge: XlateBridge, pick: (m: XlateMirror) => boolean): number {
  const list = mirrorsOf(bridge);
  let mask = 0;
  for (let i = 0; i < list.length && i < MAX_MIRRORS; i++) if (pick(list[i]!)) mask |= 1 << i;
  return mask >>> 0;
}

/** Mirrors whose output is this port: such a port carries only mirrored copies. */
export function mirrorOutMask(bridge: XlateBridge, ofport: number): number {
  return maskOf(bridge, (m) => m.outPort === ofport);
}

/** Mirrors with the same destination as mirror `i` (itself included): one copy serves them all. */
function dupMask(list: readonly XlateMirror[], i: number): number {
  const m = list[i]!;
  let mask = 0;
  list.forEach((o, j) => {
    if (j < MAX_MIRRORS && o.outPort === m.outPort && (m.outPort !== null || o.outVlan === m.outVlan)) mask |= 1 << j;
  });
  return mask >>> 0;
}

/** Copies the packet to the mirrors selecting a packet on `port` (mirror_packet). */
function mirrorPacket(ctx: XlateContext, port: XlatePort, mask: number): void {
  const v = portVlan(port);
  const inXvlan = extractXvlan(ctx);
  if (!inputVidIsValid(ctx, inXvlan[0].vid, v, port.name)) return;
  const xvlan = inputTranslate(v, inXvlan);
  const list = mirrorsOf(ctx.bridge);
  mask &= ~ctx.mirrors;
  let used = 0;
  while (mask) {
    const i = 31 - Math.clz32(mask & -mask);
    const bit = (1 << i) >>> 0;
    const m = list[i]!;
    if (m.vlans) mark(ctx.wc, 'vlan_tci', 0x1fffn);
    if (m.vlans && !m.vlans.has(xvlan[0].vid)) {
      mask = (mask & ~bit) >>> 0;
      continue;
    }
    used |= bit;
    ctx.mirrors = (ctx.mirrors | dupMask(list, i)) >>> 0;
    ctx.mirrorSnaplen = m.snaplen ?? 0;
    if (m.outPort !== null) {
      const out = ctx.bridge.ports.get(m.outPort);
      if (out) outputNormal(ctx, out, xvlan);
    } else if (m.outVlan !== null && xvlan[0].vid !== m.outVlan && !isReservedMac(get(ctx.key, 'eth_dst'))) {
      // RSPAN: flood the copy in the output VLAN, on every port carrying it but mirror outputs.
      const rspan = cloneXvlan(xvlan);
      rspan[0].vid = m.outVlan;
      for (const n of portsInOrder(ctx)) {
        const p = ctx.bridge.ports.get(n)!;
        if (includesVlan(portVlan(p), rspan) && !mirrorOutMask(ctx.bridge, n)) outputNormal(ctx, p, rspan);
      }
    }
    mask = (mask & ~ctx.mirrors) >>> 0;
    ctx.mirrorSnaplen = 0;
  }
  if (used && ctx.credit) {
    for (let i = 0; i < list.length; i++) {
      if (used & (1 << i)) {
        list[i]!.packets++;
        list[i]!.bytes += ctx.credit.bytes;
      }
    }
  }
}

/** Mirrors selecting packets received on the input port (mirror_ingress_packet): before any action runs. */
export function mirrorIngress(ctx: XlateContext, inPort: number): void {
  if (!mirrorsOf(ctx.bridge).length) return;
  const p = ctx.bridge.ports.get(inPort);
  if (p) mirrorPacket(ctx, p, maskOf(ctx.bridge, (m) => m.srcPorts.has(inPort)));
  // Looking up the input port's bundle, as OVS does, reports a port it does not know.
  else if (inPort !== OFPP.NONE && inPort !== OFPP.CONTROLLER) ctx.report('error', `received packet on unknown port ${inPort}`);
}

/** Mirrors selecting packets sent on `ofport`: after each output there. */
export function mirrorEgress(ctx: XlateContext, ofport: number): void {
  if (!mirrorsOf(ctx.bridge).length) return;
  const p = ctx.bridge.ports.get(ofport);
  if (p) mirrorPacket(ctx, p, maskOf(ctx.bridge, (m) => m.dstPorts.has(ofport)));
}

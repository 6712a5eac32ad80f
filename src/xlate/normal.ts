// OFPP_NORMAL, the learning switch (OVS's xlate_normal): check the frame's
// VLAN against the input port's mode, place it in a VLAN, learn its source in
// that VLAN, then send it to the port its destination was learned on or flood
// it to every port of the VLAN, each copy tagged as the output port's mode wants.

import type { XlatePort } from './bridge.js';
import { OFPP, PORT_CONFIG } from './bridge.js';
import type { XlateContext } from './context.js';
import { ETH_TYPE, VLAN_CFI, get, getNum, mark, set } from './key.js';
import { MacLearning } from './mac-learning.js';
import { mirrorOutMask } from './mirror.js';
import { composeOutput, currentInPort, portsInOrder } from './output.js';
import {
  TRUNK_ALL, extractXvlan, flowTags, includesVlan, inputTranslate, inputVidIsValid, outputTranslate, xvlanToTags, type PortVlan, type Xvlan,
} from './vlan.js';

export function formatMac(v: bigint): string {
  return v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** 01:80:c2:00:00:00 through 01:80:c2:00:00:0f: never forwarded by a bridge. */
export function isReservedMac(m: bigint): boolean {
  return (m & ~0xfn) === 0x0180c2000000n;
}

/** A port's VLAN settings; a port configured with none is a trunk of every VLAN. */
export function portVlan(p: XlatePort): PortVlan {
  return p.vlan ?? TRUNK_ALL;
}

export { portsInOrder };

/**
 * Sends the packet, in VLANs `xvlan`, out of a port with the tags its mode
 * gives (output_normal); the flow's tags are as before afterwards.
 */
export function outputNormal(ctx: XlateContext, out: XlatePort, xvlan: Xvlan): void {
  const v = portVlan(out);
  const outX = outputTranslate(v, xvlan);
  if (v.priorityTags !== 'never') outX[0].pcp = (flowTags(ctx)[0]?.tci ?? 0) & 0xe000;
  const tags = xvlanToTags(outX, v.priorityTags);
  const savedTci = getNum(ctx.key, 'vlan_tci');
  const savedTpid = ctx.tpid;
  const savedOuter = ctx.outerVlans;
  const inner = tags[tags.length - 1];
  ctx.outerVlans = tags.slice(0, -1);
  set(ctx.key, 'vlan_tci', inner?.tci ?? 0);
  ctx.tpid = inner?.tpid ?? savedTpid;
  composeOutput(ctx, out.ofport, 0);
  set(ctx.key, 'vlan_tci', savedTci);
  ctx.tpid = savedTpid;
  ctx.outerVlans = savedOuter;
}

/** Every port but the input one that carries the VLAN, may be flooded to and is no mirror output (xlate_normal_flood). */
function floodVlan(ctx: XlateContext, inPort: number, xvlan: Xvlan): void {
  for (const n of portsInOrder(ctx)) {
    if (n === inPort) continue;
    const p = ctx.bridge.ports.get(n)!;
    if (p.config & PORT_CONFIG.NO_FLOOD || !includesVlan(portVlan(p), xvlan) || mirrorOutMask(ctx.bridge, n)) continue;
    outputNormal(ctx, p, xvlan);
  }
}

/** A broadcast ARP announcing its own address (OVS's is_gratuitous_arp), marking what it looked at. */
function isGratuitousArp(ctx: XlateContext): boolean {
  const k = ctx.key;
  if (getNum(k, 'eth_type') !== ETH_TYPE.ARP) return false;
  mark(ctx.wc, 'eth_dst');
  if (get(k, 'eth_dst') !== 0xffffffffffffn) return false;
  mark(ctx.wc, 'arp_op');
  const op = getNum(k, 'arp_op');
  if (op === 2) return true;
  if (op !== 1) return false;
  mark(ctx.wc, 'arp_spa');
  mark(ctx.wc, 'arp_tpa');
  return get(k, 'arp_spa') === get(k, 'arp_tpa');
}

/** The learning switch behind OFPP_NORMAL. */
export function xlateNormal(ctx: XlateContext): void {
  mark(ctx.wc, 'eth_src');
  mark(ctx.wc, 'eth_dst');
  mark(ctx.wc, 'vlan_tci', BigInt(0xfff | VLAN_CFI));
  const inPort = currentInPort(ctx);
  const inXport = ctx.bridge.ports.get(inPort);
  const noneBundle = !inXport && (inPort === OFPP.NONE || inPort === OFPP.CONTROLLER);
  if (!inXport && !noneBundle) {
    ctx.report('error', `received packet on unknown port ${inPort}`);
    ctx.report('warn', 'no input bundle, dropping');
    return;
  }
  if (inXport && mirrorOutMask(ctx.bridge, inPort)) {
    if (ctx.packet) ctx.report('error', `dropping packet received on port ${inXport.name}, which is reserved exclusively for mirroring`);
    ctx.report('warn', 'input port is mirror output port, dropping');
    return;
  }
  const inVlan: PortVlan | 'none' = inXport ? portVlan(inXport) : 'none';
  const inXvlan = extractXvlan(ctx);
  if (!inputVidIsValid(ctx, inXvlan[0].vid, inVlan, inXport?.name ?? '')) {
    ctx.report('warn', 'disallowed VLAN VID for this input port, dropping');
    return;
  }
  const xvlan = inputTranslate(inVlan, inXvlan);
  const vlan = xvlan[0].vid;
  const dst = get(ctx.key, 'eth_dst');
  if (isReservedMac(dst)) {
    ctx.report('detail', 'packet has reserved destination MAC, dropping');
    return;
  }
  isGratuitousArp(ctx);
  const src = get(ctx.key, 'eth_src');
  // (The table is this bridge's: a patch port may have brought the packet here from another.)
  if (inXport && MacLearning.mayLearn(src)) ctx.learned.push({ table: ctx.mac, mac: src, vlan, port: inPort });
  if (ctx.sideEffects && inXport && ctx.mac.learn(src, vlan, inPort)) {
    ctx.report('detail', `learned that ${formatMac(src)} is on port ${inXport.name} in VLAN ${vlan}`);
  }
  const known = MacLearning.mayLearn(dst) ? ctx.mac.lookup(dst, vlan) : undefined;
  if (known === undefined) {
    ctx.report('detail', 'no learned MAC for destination, flooding');
    floodVlan(ctx, inPort, xvlan);
    return;
  }
  const out = ctx.bridge.ports.get(known);
  if (out && mirrorOutMask(ctx.bridge, known)) {
    ctx.report('warn', 'learned port is a mirror port, dropping');
  } else if (out && known !== inPort) {
    ctx.report('detail', 'forwarding to learned port');
    outputNormal(ctx, out, xvlan);
  } else if (!out) {
    ctx.report('warn', 'learned port is unknown, dropping');
  } else {
    ctx.report('detail', 'learned port is input port, dropping');
  }
}

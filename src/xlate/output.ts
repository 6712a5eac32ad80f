// Where packets leave the pipeline: output to a port (and the reserved ports
// IN_PORT, FLOOD, ALL, LOCAL, CONTROLLER, NORMAL, the last in normal.ts), and
// packet-ins to the controllers.

import type { Match } from '../openflow/index.js';
import { OFPP, PORT_CONFIG, type PacketInReason, type XlateBridge, type XlateRule } from './bridge.js';
import { MAX_DEPTH, isMissRule, type XlateContext } from './context.js';
import { get, getNum, port16, port32, set } from './key.js';
import { macTableOf } from './mac-learning.js';
import { executeActionSet, startPipeline } from './tables.js';
import { tunnelOutput, tunnelReceive } from './tunnel.js';
import { mirrorEgress } from './mirror.js';
import { xlateNormal } from './normal.js';
import { commit, odpPort } from './odp.js';

/** The packet's current input port (16-bit). */
export function currentInPort(ctx: XlateContext): number {
  return port16(getNum(ctx.key, 'in_port'));
}

/** Ports in the order flooding visits them: LOCAL first, then by number. */
export function portsInOrder(ctx: XlateContext): number[] {
  // OVS floods in the order its bundles were made: the bridge's local port first (it comes with the bridge), then
  // the others as they were added, which tsw approximates by port number.
  return [...ctx.bridge.ports.keys()].sort((a, b) => (a === OFPP.LOCAL ? -1 : b === OFPP.LOCAL ? 1 : a - b));
}

/** OUTPUT to a port number, reserved ones included (xlate_output_action). */
export function xlateOutput(ctx: XlateContext, port: number, maxLen: number, table: (inPort: number) => void): void {
  switch (port) {
    case OFPP.IN_PORT: composeOutput(ctx, currentInPort(ctx), 0); break;
    case OFPP.TABLE: table(currentInPort(ctx)); break;
    case OFPP.NORMAL: xlateNormal(ctx); break;
    case OFPP.FLOOD: flood(ctx, false); break;
    case OFPP.ALL: flood(ctx, true); break;
    case OFPP.CONTROLLER:
      controllerAction(ctx, maxLen, ctx.inPacketOut ? 'packet_out' : ctx.inGroup ? 'group' : ctx.inActionSet ? 'action_set' : 'action', 0);
      break;
    case OFPP.NONE: break;
    default:
      if (port !== currentInPort(ctx)) composeOutput(ctx, port, 0);
      else ctx.report('warn', 'skipping output to input port');
  }
}

/** Sends the packet as it is now on one port, after the port's own checks. */
export function composeOutput(ctx: XlateContext, port: number, truncate: number): void {
  const p = ctx.bridge.ports.get(port);
  if (!p) {
    ctx.report('warn', 'Nonexistent output port');
    return;
  }
  if (p.config & PORT_CONFIG.NO_FWD) {
    ctx.report('detail', 'OFPPC_NO_FWD set, skipping output');
    return;
  }
  // OFPPC_PORT_DOWN does not stop output here (as in OVS): a port that is down drops what it is given.
  if (p.patchPeer) {
    patchOutput(ctx, p.patchPeer());
    return;
  }
  if (p.tunnel) {
    tunnelOutput(ctx, p.tunnel({ tunId: getNum(ctx.key, 'tun_id') >>> 0, tunSrc: getNum(ctx.key, 'tun_src'), tunDst: getNum(ctx.key, 'tun_dst') }), p.odpPort);
    return;
  }
  if (port === OFPP.LOCAL && tunnelReceive(ctx, ctx.bridge.tunnels)) return;
  commit(ctx);
  const text = odpPort(port, ctx.bridge);
  // A mirror with a snaplen truncates its copies.
  if (!truncate && ctx.mirrorSnaplen > 0 && ctx.mirrorSnaplen < 0xffff) truncate = ctx.mirrorSnaplen;
  const there = ctx.bridge !== ctx.origin ? { bridge: ctx.bridge } : {};
  ctx.emit({ type: 'output', port, maxLen: truncate, ...there }, truncate ? `trunc(${truncate}),${text}` : text);
  mirrorEgress(ctx, port);
}

/**
 * Output to a patch port (OVS's patch_port_output): the packet enters the
 * peer's bridge at the peer port, with fresh pipeline metadata, and goes
 * through that bridge's tables; afterwards the translation carries on in
 * this bridge with the flow as it was (the datapath packet keeps whatever
 * the peer's actions committed).
 */
function patchOutput(ctx: XlateContext, peer: { bridge: XlateBridge; ofport: number } | undefined): void {
  if (!peer) {
    ctx.report('warn', 'patch port has no peer');
    return;
  }
  if (ctx.depth >= MAX_DEPTH) {
    ctx.error = 'Recursion too deep';
    return;
  }
  const saved = {
    bridge: ctx.bridge, mac: ctx.mac, inPort: ctx.inPort, key: Uint32Array.from(ctx.key), tableId: ctx.tableId, rule: ctx.rule,
    actionSet: ctx.actionSet, actionSetHasGroup: ctx.actionSetHasGroup, mirrors: ctx.mirrors, trace: ctx.trace, exit: ctx.exit,
  };
  ctx.bridge = peer.bridge;
  ctx.mac = macTableOf(peer.bridge);
  ctx.inPort = peer.ofport;
  set(ctx.key, 'in_port', port32(peer.ofport));
  set(ctx.key, 'metadata', 0);
  for (let i = 0; i < 16; i++) set(ctx.key, `reg${i}`, 0);
  ctx.actionSet = [];
  ctx.actionSetHasGroup = false;
  ctx.mirrors = 0;
  ctx.exit = false;
  ctx.depth++;
  const node = ctx.report('bridge', `bridge("${peer.bridge.name}")`);
  if (node) ctx.trace = node;
  try {
    startPipeline(ctx);
    if (!ctx.error) executeActionSet(ctx);
  } finally {
    ctx.depth--;
    ctx.bridge = saved.bridge;
    ctx.mac = saved.mac;
    ctx.inPort = saved.inPort;
    ctx.key.set(saved.key);
    ctx.tableId = saved.tableId;
    ctx.rule = saved.rule;
    ctx.actionSet = saved.actionSet;
    ctx.actionSetHasGroup = saved.actionSetHasGroup;
    ctx.mirrors = saved.mirrors;
    ctx.trace = saved.trace;
    ctx.exit = saved.exit;
  }
}

function flood(ctx: XlateContext, all: boolean): void {
  const inPort = currentInPort(ctx);
  for (const n of portsInOrder(ctx)) {
    if (n === inPort) continue;
    const p = ctx.bridge.ports.get(n)!;
    if (!all && p.config & PORT_CONFIG.NO_FLOOD) continue;
    composeOutput(ctx, n, 0);
  }
}

// ---------------------------------------------------------------- controller

const REASON_CODE: Readonly<Record<PacketInReason, number>> = {
  no_match: 0, action: 1, invalid_ttl: 2, action_set: 3, group: 4, packet_out: 5,
};

/** A priority-0 catch-all flow: its packet-ins are explicit table misses. */
function isTableMiss(r: XlateRule): boolean {
  return r.priority === 0 && Object.keys(r.match).length === 0;
}

/** The pipeline fields a packet-in carries: in_port, metadata, registers, tunnel id. */
export function pipelineMatch(key: Uint32Array): Match {
  const m: Record<string, { value: bigint }> = { in_port: { value: get(key, 'in_port') } };
  const add = (name: string) => {
    const v = get(key, name);
    if (v !== 0n) m[name] = { value: v };
  };
  add('tun_id');
  add('metadata');
  for (let i = 0; i < 16; i++) add(`reg${i}`);
  return m;
}

/**
 * Hands the packet, as modified so far, to the controllers. `implicitMiss`
 * marks the table-miss packet-in of a switch without a miss flow.
 */
export function controllerAction(
  ctx: XlateContext, maxLen: number, reason: PacketInReason, controllerId: number, userdata?: Uint8Array, implicitMiss = false,
): void {
  const rule = ctx.rule && !isMissRule(ctx.rule) ? ctx.rule : null;
  let explicitMiss = false;
  if (reason === 'action' && rule && isTableMiss(rule)) {
    reason = 'no_match';
    explicitMiss = true;
  }
  const inPort = port16(getNum(ctx.base, 'in_port'));
  const p = ctx.bridge.ports.get(inPort);
  if (p && p.config & PORT_CONFIG.NO_PACKET_IN) {
    ctx.report('detail', 'OFPPC_NO_PACKET_IN set on the input port, no packet-in');
    return;
  }
  commit(ctx);
  const cookie = rule?.cookie ?? 0n;
  const code = explicitMiss ? 6 : implicitMiss ? 7 : REASON_CODE[reason];
  const recirc = ++ctx.recircIds;
  ctx.emit(
    {
      type: 'controller',
      pin: {
        reason, explicitMiss, maxLen, controllerId, tableId: ctx.tableId, cookie, metadata: pipelineMatch(ctx.key),
        ...(userdata?.length ? { userdata } : {}),
      },
    },
    `userspace(pid=0,controller(reason=${code},dont_send=${ctx.sideEffects ? 0 : 1},continuation=0,recirc_id=${recirc},`
      + `rule_cookie=${cookie ? `0x${cookie.toString(16)}` : '0'},controller_id=${controllerId},max_len=${maxLen}))`,
  );
}


// One translation: a packet's flow through the bridge's OpenFlow tables (or a
// packet-out's actions) into datapath actions, the wildcard mask of what was
// looked at, and the trace tree when asked for.

import type { MacLearning } from './mac-learning.js';
import { doActions } from './actions.js';
import { executeActionSet, mayReceive, startPipeline } from './tables.js';
import type { XlateRule } from './bridge.js';
import { XlateContext, type XlateError, type XlateInput } from './context.js';
import { VLAN_CFI, get, getNum, isIp, isMpls, mark, newKey, set } from './key.js';
import { TUN_MD_SPACE_WORD } from '../flow/index.js';
import type { DpAction } from './odp.js';
import type { TraceNode } from './trace-tree.js';

export interface XlateResult {
  /** What to do with the packet; empty: drop. */
  readonly dp: readonly DpAction[];
  /** The same in OVS's ODP syntax. */
  readonly odp: readonly string[];
  /** Every bit of the flow the result depends on (the megaflow's mask). */
  readonly wc: Uint32Array;
  /** The flow as it came in (after re-parsing, if pop_mpls made it re-parse). */
  readonly base: Uint32Array;
  /** The flow as the actions left it. */
  readonly flow: Uint32Array;
  readonly error: XlateError | null;
  readonly trace: readonly TraceNode[];
  /**
   * The rules the packet matched, in the order it met them (once per visit),
   * so a datapath can credit them for later packets of the same megaflow
   * without translating again.
   */
  readonly rules: readonly XlateRule[];
  /** The result rests on something not in the flow that is not settled (a tunnel's next hop): run it, do not cache it. */
  readonly noCache: boolean;
  /** Source MACs NORMAL learned on the way, which later packets of a cached flow keep alive. */
  readonly learned: ReadonlyArray<{ readonly table: MacLearning; readonly mac: bigint; readonly vlan: number; readonly port: number }>;
}

export function translate(input: XlateInput): XlateResult {
  const ctx = new XlateContext(input, newKey());
  // Fields every translation depends on (OVS's xlate_wc_init).
  mark(ctx.wc, 'in_port');
  mark(ctx.wc, 'eth_type');
  if (isIp(ctx.key)) mark(ctx.wc, 'ip_frag');
  const bridgeNode = ctx.report('bridge', `bridge("${input.bridge.name}")`);
  if (bridgeNode) ctx.trace = bridgeNode;
  if (input.actions) {
    ctx.inPacketOut = true;
    if (mayReceive(ctx)) doActions(ctx, input.actions);
  } else {
    startPipeline(ctx);
  }
  if (!ctx.error) executeActionSet(ctx);
  finishMask(ctx.wc, ctx.base);
  const failed = ctx.error !== null;
  return {
    dp: failed ? [] : ctx.dp, odp: failed ? [] : ctx.odp, wc: ctx.wc, base: ctx.base, flow: ctx.key, error: ctx.error, trace: ctx.root,
    rules: ctx.rules,
    noCache: ctx.noCache,
    learned: ctx.learned,
  };
}

/**
 * The mask's last touches (OVS's xlate_wc_finish): no metadata or registers
 * (a datapath flow cannot match them), no bits of headers the packet did not
 * come with (pushed VLAN tags and MPLS labels, a tunnel it did not come
 * from), and the VLAN CFI bit whenever any TCI bit matters.
 */
function finishMask(wc: Uint32Array, base: Uint32Array): void {
  set(wc, 'metadata', 0);
  set(wc, 'actset_output', 0);
  for (let i = 0; i < 16; i++) set(wc, `reg${i}`, 0);
  if (getNum(wc, 'vlan_tci')) set(wc, 'vlan_tci', getNum(wc, 'vlan_tci') | VLAN_CFI);
  if (!isMpls(base)) for (const n of ['mpls_label', 'mpls_tc', 'mpls_ttl', 'mpls_bos']) set(wc, n, 0);
  if (!(getNum(base, 'vlan_tci') & VLAN_CFI)) set(wc, 'vlan_tci', 0);
  if (get(base, 'tun_dst') === 0n) {
    for (const n of ['tun_id', 'tun_src', 'tun_dst']) set(wc, n, 0);
    wc.fill(0, TUN_MD_SPACE_WORD(wc.length));
  }
}

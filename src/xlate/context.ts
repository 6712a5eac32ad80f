// The state of one translation (OVS's xlate_ctx): the flow as the actions
// change it, the wildcard mask of everything looked at, the datapath actions
// produced so far, the action set, recursion limits and the trace under
// construction.

import type { TextAction } from '../openflow/index.js';
import type { XlateBridge, XlateRule } from './bridge.js';
import type { MacLearning } from './mac-learning.js';
import { report, type TraceNode, type TraceNodeType } from './trace-tree.js';
import type { DpAction } from './odp.js';
import { TPID_8021Q, type WireTag } from './vlan.js';

/** OVS's limits: resubmit nesting (counting only moves to the same or an earlier table) and total resubmits. */
export const MAX_DEPTH = 64;
export const MAX_RESUBMITS = 4096;

export type XlateError = 'Recursion too deep' | 'Too many resubmits' | 'Conntrack is not supported';

export interface XlateInput {
  readonly bridge: XlateBridge;
  readonly mac: MacLearning;
  /** The packet's flow (copied; the translation changes its own copy). */
  readonly flow: Uint32Array;
  /** 16-bit OpenFlow port the packet came in on (OFPP_NONE for a packet-out without one). */
  readonly inPort: number;
  /** Record the ofproto/trace tree. */
  readonly trace: boolean;
  /** Learning (NORMAL, learn actions) may change state: a real packet, or a trace given a packet. */
  readonly sideEffects: boolean;
  /** Credit rules, tables and groups with this packet (real traffic only). */
  readonly credit: { readonly bytes: number; readonly now: number } | null;
  /** The frame, when there is one. */
  readonly packet: Uint8Array | null;
  /** A packet-out's actions, run in place of the tables. */
  readonly actions?: readonly TextAction[];
}

/** A rule stand-in for table misses (OVS's internal miss_rule and no_packet_in_rule). */
export interface MissRule { readonly miss: 'packet_in' | 'drop'; readonly tableId: number }

export class XlateContext {
  /** The bridge translating now: a patch port moves the translation into its peer's bridge and back. */
  bridge: XlateBridge;
  /** The bridge the packet entered (outputs elsewhere name their bridge). */
  readonly origin: XlateBridge;
  mac: MacLearning;
  /** The flow as modified so far (xin->flow). */
  readonly key: Uint32Array;
  /** The flow as it came in. */
  readonly base: Uint32Array;
  /** What the datapath packet looks like after the actions emitted so far (OVS's base_flow). */
  readonly committed: Uint32Array;
  readonly wc: Uint32Array;
  readonly dp: DpAction[] = [];
  /** Datapath actions in OVS's ODP syntax, for the trace. */
  readonly odp: string[] = [];
  inPort: number;
  readonly sideEffects: boolean;
  readonly credit: XlateInput['credit'];
  readonly root: TraceNode[] = [];
  /** Where reports go now; null when not tracing. */
  trace: TraceNode[] | null;
  depth = 0;
  resubmits = 0;
  exit = false;
  error: XlateError | null = null;
  tableId = 0;
  rule: XlateRule | MissRule | null = null;
  /** write_actions accumulates here; executed at the end of the pipeline. */
  actionSet: TextAction[] = [];
  actionSetHasGroup = false;
  inPacketOut = false;
  inActionSet = false;
  /** Translating a group bucket (CONTROLLER output then reports reason group). */
  inGroup = false;
  /** The frame being translated, when there is one: re-parsed after pop_mpls. */
  packet: Uint8Array | null;
  /** Set after pop_mpls: the next table lookup must see the re-parsed packet (OVS recirculates). */
  wasMpls = false;
  recircIds = 0;
  /** VLAN tags push_vlan added: the wildcard mask says nothing about those (they are not in the input). */
  vlanPushed = 0;
  /** Likewise for MPLS labels push_mpls added. */
  mplsPushed = 0;
  /** TPID of the key's VLAN tag (the key holds the TCI only). */
  tpid = TPID_8021Q;
  /** Tags stacked above the key's own while NORMAL outputs to a dot1q-tunnel's trunk (outermost first). */
  outerVlans: WireTag[] = [];
  /** The same two for the packet as committed (what the datapath actions have made of it so far). */
  committedTpid = TPID_8021Q;
  committedOuter: WireTag[] = [];
  /** Mirrors (bit per mirror index) this packet was already sent to (OVS's ctx->mirrors). */
  mirrors = 0;
  /** A mirror's snaplen while its copy is output; 0: whole packets. */
  mirrorSnaplen = 0;
  /** Every rule the packet matched, in order (a rule resubmitted to twice is here twice). */
  readonly rules: XlateRule[] = [];
  /** The result depends on something outside the flow that is not settled yet (a tunnel's next hop): execute, do not cache. */
  noCache = false;
  /**
   * Source MACs NORMAL learned (or would have) for this flow: a cached
   * flow's later packets refresh them when its statistics move (OVS's
   * XC_NORMAL xlate-cache entries), or they would age out under traffic.
   */
  readonly learned: Array<{ readonly table: MacLearning; readonly mac: bigint; readonly vlan: number; readonly port: number }> = [];

  constructor(input: XlateInput, wc: Uint32Array) {
    this.bridge = input.bridge;
    this.origin = input.bridge;
    this.mac = input.mac;
    this.key = Uint32Array.from(input.flow);
    this.base = Uint32Array.from(input.flow);
    this.committed = Uint32Array.from(input.flow);
    this.wc = wc;
    this.inPort = input.inPort;
    this.sideEffects = input.sideEffects;
    this.credit = input.credit;
    this.trace = input.trace ? this.root : null;
    this.packet = input.packet;
    const p = input.packet;
    // The key drops the TPID: take it from the frame when there is one (0x88a8 for an 802.1ad tag).
    if (p && p.length >= 14 && p[12] === 0x88 && p[13] === 0xa8) this.tpid = this.committedTpid = 0x88a8;
  }

  get tracing(): boolean {
    return this.trace !== null;
  }

  /** Adds a trace node at the current place; returns its children (or null when not tracing). */
  report(type: TraceNodeType, text: string | (() => string)): TraceNode[] | null {
    if (!this.trace) return null;
    return report(this.trace, type, typeof text === 'string' ? text : text());
  }

  emit(action: DpAction, odp: string): void {
    this.dp.push(action);
    this.odp.push(odp);
  }
}

export function isMissRule(r: XlateRule | MissRule | null): r is MissRule {
  return r !== null && 'miss' in r;
}

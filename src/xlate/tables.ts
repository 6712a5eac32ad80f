// Table lookups (OVS's xlate_table_action and rule_dpif_lookup_from_table):
// resubmit and goto_table with their limits, table misses, the trace line of
// each table visited, and the action set that write_actions fills.

import { formatActionList, formatMatch, matchToSlots, type TextAction } from '../openflow/index.js';
import { OFPP, PORT_CONFIG, type XlateRule } from './bridge.js';
import { MAX_DEPTH, MAX_RESUBMITS, isMissRule, type MissRule, type XlateContext } from './context.js';
import { doActions } from './actions.js';
import { reparse } from './field-actions.js';
import { get, port16, port32, set } from './key.js';
import { mirrorIngress, mirrorOutMask } from './mirror.js';
import { controllerAction } from './output.js';

export const TRACE_PROTOCOL = 'OpenFlow13';

export function resourceCheck(ctx: XlateContext): boolean {
  if (ctx.depth >= MAX_DEPTH) {
    ctx.report('error', `over max translation depth ${MAX_DEPTH}`);
    ctx.error = 'Recursion too deep';
  } else if (ctx.resubmits >= MAX_RESUBMITS) {
    ctx.report('error', `over ${MAX_RESUBMITS} resubmit actions`);
    ctx.error = 'Too many resubmits';
  } else {
    return true;
  }
  return false;
}

/** Looks the flow up in `tableId` as if it came in on `inPort` (rule_dpif_lookup_from_table). */
export function lookupRule(ctx: XlateContext, tableId: number, inPort: number, mayPacketIn: boolean): XlateRule | MissRule {
  const table = ctx.bridge.tables[tableId];
  const saved = get(ctx.key, 'in_port');
  set(ctx.key, 'in_port', port32(inPort));
  const rule = table?.cls.lookup(ctx.key, ctx.wc) ?? null;
  set(ctx.key, 'in_port', saved);
  if (table && ctx.credit) {
    table.lookups++;
    if (rule) table.matches++;
  }
  if (rule) {
    ctx.rules.push(rule);
    return rule;
  }
  if (mayPacketIn) {
    const wants = ctx.bridge.connmgr.wantsPacketInOnMiss?.() ?? !ctx.tracing;
    const p = ctx.bridge.ports.get(port16(Number(saved)));
    if (wants && (!p || !(p.config & PORT_CONFIG.NO_PACKET_IN))) return { miss: 'packet_in', tableId };
  }
  return { miss: 'drop', tableId };
}

const FAIL_OPEN_PRIORITY = 0xf0f0f0;

/** The trace line of a table visit: "N. match, priority P, cookie C" or the miss forms. */
export function reportTable(ctx: XlateContext, rule: XlateRule | MissRule, tableId: number): void {
  if (!ctx.trace) return;
  const n = String(tableId).padStart(2);
  let text: string;
  if (isMissRule(rule)) {
    text = rule.miss === 'packet_in' ? `${n}. No match, and a "packet-in" is called for.` : `${n}. No match.`;
  } else {
    const m = formatMatch(matchToSlots(rule.match));
    text = `${n}. ${m ? `${m}, ` : ''}priority ${rule.priority}`;
    if (rule.cookie) text += `, cookie 0x${rule.cookie.toString(16)}`;
  }
  ctx.trace = ctx.report('table', text);
}

/** Runs a rule's actions one level deeper (xlate_recursively), crediting it with the packet. */
export function runRule(ctx: XlateContext, rule: XlateRule | MissRule, deepens: boolean): void {
  const oldRule = ctx.rule;
  ctx.resubmits++;
  if (deepens) ctx.depth++;
  ctx.rule = rule;
  if (isMissRule(rule)) {
    if (rule.miss === 'packet_in') {
      ctx.report('action', 'controller(reason=)');
      controllerAction(ctx, 0xffff, 'no_match', 0, undefined, true);
    } else {
      ctx.report('action', 'drop');
    }
  } else {
    if (ctx.credit) {
      rule.packets++;
      rule.bytes += ctx.credit.bytes;
      rule.used = ctx.credit.now;
    }
    doActions(ctx, rule.actions);
  }
  ctx.rule = oldRule;
  if (deepens) ctx.depth--;
}

/** resubmit and goto_table (xlate_table_action). */
export function tableAction(ctx: XlateContext, inPort: number, tableId: number, mayPacketIn: boolean): void {
  if (ctx.wasMpls) reparse(ctx);
  if (!resourceCheck(ctx)) return;
  const oldTable = ctx.tableId;
  ctx.tableId = tableId;
  const rule = lookupRule(ctx, tableId, inPort, mayPacketIn);
  const oldTrace = ctx.trace;
  reportTable(ctx, rule, tableId);
  runRule(ctx, rule, tableId <= oldTable);
  ctx.trace = oldTrace;
  ctx.tableId = oldTable;
}

/** The table-0 lookup a received packet starts with (or NORMAL in fail-open). */
export function startPipeline(ctx: XlateContext): void {
  const inPort = ctx.inPort;
  let rule: XlateRule | MissRule;
  if (ctx.bridge.isFailOpen()) {
    rule = { tableId: 0, priority: FAIL_OPEN_PRIORITY, cookie: 0n, match: {}, packets: 0, bytes: 0, used: 0, actions: [{ type: 'output', port: OFPP.NORMAL, max_len: 0 }] };
  } else {
    rule = lookupRule(ctx, 0, inPort, true);
  }
  reportTable(ctx, rule, 0);
  ctx.rule = rule;
  if (!mayReceive(ctx)) return;
  runRule(ctx, rule, false);
}

/**
 * Whether the packet's actions run at all (xlate_actions): not when the input
 * port refuses packets or carries only mirror copies. Mirrors selecting the
 * input port get their copy here, before any action.
 */
export function mayReceive(ctx: XlateContext): boolean {
  const p = ctx.bridge.ports.get(ctx.inPort);
  if (p && mirrorOutMask(ctx.bridge, ctx.inPort)) {
    ctx.report('error', `dropping packet received on port ${p.name}, which is reserved exclusively for mirroring`);
    return false;
  }
  if (p && p.config & (PORT_CONFIG.NO_RECV | PORT_CONFIG.PORT_DOWN)) return false;
  mirrorIngress(ctx, ctx.inPort);
  return true;
}

// ---------------------------------------------------------------- action set

const SET_OR_MOVE = new Set<TextAction['type']>([
  'set_field', 'move', 'mod_vlan_vid', 'mod_vlan_pcp', 'mod_dl_src', 'mod_dl_dst', 'mod_nw_src', 'mod_nw_dst', 'mod_nw_tos',
  'mod_nw_ecn', 'mod_nw_ttl', 'mod_tp_src', 'mod_tp_dst', 'set_mpls_label', 'set_mpls_tc', 'set_mpls_ttl', 'set_tunnel',
]);

/** A plain output (a bare CONTROLLER is one too). */
function isOutput(a: TextAction): boolean {
  return a.type === 'output' || (a.type === 'controller' && a.bare && a.reason === undefined);
}

/**
 * An action set as it executes (OVS's ofpacts_execute_action_set): in
 * OpenFlow's order, the last action of each kind, every set-field in the
 * order written, then the group, else the output (else resubmit or ct). A set
 * with none of those sends nothing, so nothing of it runs.
 */
export function orderedActionSet(list: readonly TextAction[]): TextAction[] {
  const last = (pred: (a: TextAction) => boolean): TextAction[] => {
    for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return [list[i]!];
    return [];
  };
  const kind = (t: TextAction['type']) => (a: TextAction) => a.type === t;
  const terminal = [kind('group'), isOutput, kind('resubmit'), kind('ct')].map(last).find((x) => x.length) ?? [];
  if (!terminal.length) return [];
  return [
    ...last(kind('strip_vlan')), ...last(kind('pop_mpls')), ...last(kind('push_mpls')), ...last(kind('push_vlan')),
    ...last(kind('dec_ttl')), ...last(kind('dec_mpls_ttl')), ...list.filter((a) => SET_OR_MOVE.has(a.type)),
    ...last(kind('set_queue')), ...terminal,
  ];
}

/**
 * Adds to the action set. The flow's actset_output follows it, as in OVS:
 * the port of its output, unless a group is (or was) written.
 */
export function writeActions(ctx: XlateContext, list: readonly TextAction[]): void {
  ctx.actionSet.push(...list);
  for (const a of list) {
    if (a.type === 'group') ctx.actionSetHasGroup = true;
    if (ctx.actionSetHasGroup) set(ctx.key, 'actset_output', 0);
    else if (a.type === 'output') set(ctx.key, 'actset_output', port32(a.port));
    else if (isOutput(a)) set(ctx.key, 'actset_output', port32(OFPP.CONTROLLER));
  }
}

export function clearActions(ctx: XlateContext): void {
  ctx.actionSet = [];
  ctx.actionSetHasGroup = false;
  set(ctx.key, 'actset_output', 0);
}

export function reportActionSet(ctx: XlateContext, verb: string): void {
  if (!ctx.trace) return;
  const list = orderedActionSet(ctx.actionSet);
  ctx.report('detail', list.length ? `action set ${verb}: ${formatActionList(list, TRACE_PROTOCOL)}` : `action set ${verb} empty`);
}

/** Runs what write_actions left in the action set, at the end of the pipeline. */
export function executeActionSet(ctx: XlateContext): void {
  const list = orderedActionSet(ctx.actionSet);
  ctx.actionSet = [];
  if (!list.length) return;
  ctx.inActionSet = true;
  const oldTrace = ctx.trace;
  ctx.trace = ctx.report('table', '--. Executing action set:');
  doActions(ctx, list);
  ctx.trace = oldTrace;
  ctx.inActionSet = false;
}


// The action loop (OVS's do_xlate_actions): each OpenFlow action's effect on
// the flow being translated, in list order, with the trace line of each.

import { formatAction, type TextAction } from '../openflow/index.js';
import { OFPP, type PacketInReason } from './bridge.js';
import type { XlateContext } from './context.js';
import {
  decMplsTtl, decTtl, popMpls, prereqsOk, pushMpls, reportSubfield, setFieldAction, setVlan,
} from './field-actions.js';
import { bundle, groupAction, multipath } from './groups.js';
import { VLAN_CFI, ETH_TYPE, get, getNum, getSubfield, isIp, isMpls, l4Ports, mark, markSubfield, set, setSubfield } from './key.js';
import { learnFlowText, parseLearn } from './learn.js';
import { composeOutput, controllerAction, currentInPort, xlateOutput } from './output.js';
import { TRACE_PROTOCOL, clearActions, reportActionSet, tableAction, writeActions } from './tables.js';

function learn(ctx: XlateContext, text: string): void {
  let flow: { flow: string; trace: string };
  try {
    flow = learnFlowText(ctx, parseLearn(text));
  } catch (e) {
    ctx.report('error', `LEARN action execution failed (${(e as Error).message}).`);
    return;
  }
  if (!ctx.sideEffects) {
    ctx.report('warn', 'suppressing side effects, so learn action ignored');
    return;
  }
  ctx.report('detail', flow.trace);
  if (!ctx.bridge.learnFlow) {
    ctx.report('error', 'LEARN action execution failed (this switch cannot add learned flows).');
    return;
  }
  try {
    ctx.bridge.learnFlow(flow.flow);
  } catch (e) {
    ctx.report('error', `LEARN action execution failed (${(e as Error).message}).`);
  }
}

function clone(ctx: XlateContext, list: readonly TextAction[]): void {
  const saved = Uint32Array.from(ctx.key);
  const wasMpls = ctx.wasMpls;
  const { vlanPushed, mplsPushed } = ctx;
  const savedSet = [...ctx.actionSet];
  const savedHasGroup = ctx.actionSetHasGroup;
  doActions(ctx, list);
  ctx.key.set(saved);
  ctx.wasMpls = wasMpls;
  ctx.vlanPushed = vlanPushed;
  ctx.mplsPushed = mplsPushed;
  ctx.actionSet = savedSet;
  ctx.actionSetHasGroup = savedHasGroup;
  ctx.exit = false;
}

// ---------------------------------------------------------------- the action loop

/** Executes an action list on the flow (do_xlate_actions). */
export function doActions(ctx: XlateContext, list: readonly TextAction[]): void {
  if (!list.length) {
    ctx.report('action', 'drop');
    return;
  }
  const k = ctx.key;
  const table = (inPort: number) => tableAction(ctx, inPort, 0, true);
  for (const a of list) {
    if (ctx.error || ctx.exit) break;
    if (ctx.trace) ctx.report('action', formatAction(a, TRACE_PROTOCOL));
    switch (a.type) {
      case 'output': xlateOutput(ctx, a.port, a.max_len, table); break;
      case 'controller':
        // A plain output to CONTROLLER takes its reason from where it runs (packet-out, group, action set).
        if (a.bare && a.reason === undefined) xlateOutput(ctx, OFPP.CONTROLLER, a.max_len, table);
        else controllerAction(ctx, a.max_len, (a.reason ?? 'action') as PacketInReason, a.id, a.userdata);
        break;
      case 'enqueue': xlateOutput(ctx, a.port, 0, table); break;
      case 'output_reg': {
        const port = getSubfield(k, a.src);
        markSubfield(ctx.wc, a.src);
        if (port <= 0xffffn) {
          ctx.report('detail', `output port is ${port}`);
          xlateOutput(ctx, Number(port), a.max_len, table);
        } else {
          ctx.report('warn', `output port ${port} is out of range`);
        }
        break;
      }
      case 'output_trunc':
        if (a.port >= OFPP.MAX && a.port !== OFPP.LOCAL && a.port !== OFPP.IN_PORT) {
          ctx.report('warn', `output_trunc does not support port: ${a.port}`);
        } else if (a.port === currentInPort(ctx)) {
          ctx.report('warn', 'skipping output to input port');
        } else {
          composeOutput(ctx, a.port === OFPP.IN_PORT ? currentInPort(ctx) : a.port, a.max_len);
        }
        break;
      case 'mod_vlan_vid': setVlan(ctx, 0xfff, a.vid); break;
      case 'mod_vlan_pcp': setVlan(ctx, 0xe000, a.pcp << 13); break;
      case 'strip_vlan':
        if (ctx.vlanPushed) ctx.vlanPushed--;
        else mark(ctx.wc, 'vlan_tci', BigInt(VLAN_CFI | 0xfff));
        set(k, 'vlan_tci', 0);
        break;
      case 'push_vlan':
        ctx.vlanPushed++;
        set(k, 'vlan_tci', VLAN_CFI);
        break;
      case 'mod_dl_src': mark(ctx.wc, 'eth_src'); set(k, 'eth_src', a.mac); break;
      case 'mod_dl_dst': mark(ctx.wc, 'eth_dst'); set(k, 'eth_dst', a.mac); break;
      case 'mod_nw_src': case 'mod_nw_dst':
        if (getNum(k, 'eth_type') === ETH_TYPE.IP) {
          const name = a.type === 'mod_nw_src' ? 'ip_src' : 'ip_dst';
          mark(ctx.wc, name);
          mark(ctx.wc, 'nw_proto');
          set(k, name, a.ip);
        }
        break;
      case 'mod_nw_tos':
        if (isIp(k)) {
          mark(ctx.wc, 'nw_proto');
          mark(ctx.wc, 'ip_dscp');
          set(k, 'ip_dscp', a.value >> 2);
        }
        break;
      case 'mod_nw_ecn':
        if (isIp(k)) {
          mark(ctx.wc, 'nw_proto');
          mark(ctx.wc, 'nw_ecn');
          set(k, 'nw_ecn', a.value);
        }
        break;
      case 'mod_nw_ttl':
        if (isIp(k)) {
          mark(ctx.wc, 'nw_proto');
          mark(ctx.wc, 'nw_ttl');
          set(k, 'nw_ttl', a.value);
        }
        break;
      case 'mod_tp_src': case 'mod_tp_dst': {
        const ports = l4Ports(k);
        if (ports) {
          const name = ports[a.type === 'mod_tp_src' ? 0 : 1];
          mark(ctx.wc, 'nw_proto');
          mark(ctx.wc, name);
          set(k, name, a.value);
        }
        break;
      }
      case 'dec_ttl': if (decTtl(ctx, a.ids)) return; break;
      case 'push_mpls': pushMpls(ctx, a.ethertype); break;
      case 'pop_mpls': popMpls(ctx, a.ethertype); break;
      case 'set_mpls_label': case 'set_mpls_tc': case 'set_mpls_ttl':
        if (isMpls(k)) {
          const name = a.type === 'set_mpls_label' ? 'mpls_label' : a.type === 'set_mpls_tc' ? 'mpls_tc' : 'mpls_ttl';
          if (!ctx.mplsPushed) mark(ctx.wc, name);
          set(k, name, a.value);
        }
        break;
      case 'dec_mpls_ttl': if (decMplsTtl(ctx)) return; break;
      case 'set_field': {
        if (a.load) {
          setFieldAction(ctx, a.field, a.value << BigInt(a.load.ofs), ((1n << BigInt(a.load.n_bits)) - 1n) << BigInt(a.load.ofs));
        } else {
          setFieldAction(ctx, a.field, a.value, a.mask ?? (1n << BigInt(a.field.bits)) - 1n);
        }
        break;
      }
      case 'move': {
        if (!prereqsOk(ctx, a.src.field) || !prereqsOk(ctx, a.dst.field)) {
          ctx.report('warn', `unmet prerequisites for ${prereqsOk(ctx, a.src.field) ? a.dst.field.name : a.src.field.name}, move ignored`);
          break;
        }
        const tlv = ctx.bridge.tlvTable;
        markSubfield(ctx.wc, a.src, tlv);
        setSubfield(k, a.dst, getSubfield(k, a.src, tlv), ctx.wc, tlv);
        reportSubfield(ctx, a.dst);
        break;
      }
      case 'set_queue': case 'pop_queue': case 'note': case 'fin_timeout': case 'sample': case 'ct_clear': break;
      case 'group': if (groupAction(ctx, a.group)) return; break;
      case 'meter': ctx.emit({ type: 'meter', id: a.meter }, `meter(${a.meter - 1})`); break;
      case 'resubmit': {
        const inPort = a.port === OFPP.IN_PORT ? currentInPort(ctx) : a.port;
        if (a.ct) {
          ctx.report('error', 'resubmit(ct) with non-tracked or non-IP packet!');
          break;
        }
        tableAction(ctx, inPort, a.table ?? ctx.tableId, false);
        break;
      }
      case 'goto_table': tableAction(ctx, currentInPort(ctx), a.table, true); break;
      case 'write_metadata': {
        const mask = a.mask ?? (1n << 64n) - 1n;
        set(k, 'metadata', (get(k, 'metadata') & ~mask) | (a.value & mask));
        break;
      }
      case 'write_actions': writeActions(ctx, a.actions); reportActionSet(ctx, 'is'); break;
      case 'clear_actions': reportActionSet(ctx, 'was'); clearActions(ctx); break;
      case 'set_tunnel': set(k, 'tun_id', a.tun_id); break;
      case 'conjunction': ctx.report('error', 'executing no-op conjunction action'); break;
      case 'multipath': multipath(ctx, a); break;
      case 'bundle': bundle(ctx, a); break;
      case 'learn': learn(ctx, a.text); break;
      case 'exit': ctx.exit = true; break;
      case 'clone': clone(ctx, a.actions); break;
      case 'ct': case 'nat':
        ctx.report('error', 'ct is not supported');
        ctx.error = 'Conntrack is not supported';
        break;
      default: {
        const unknown: never = a;
        throw new TypeError(`action ${(unknown as TextAction).type} has no translation`);
      }
    }
  }
}




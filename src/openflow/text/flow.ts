// Whole flows: `ovs-ofctl add-flow` syntax into a parsed flow (match, table,
// cookie, timeouts, flags, actions) and the flow_mod line ovs-ofctl prints.

import type { Match } from '../match.js';
import { fail } from './errors.js';
import { formatActions, parseActions, protocolVersion, splitTopLevel, type Protocol, type TextAction } from './actions.js';
import { OFP_DEFAULT_PRIORITY, formatMatch, normalizeSlots, parseMatchField, setField, slotsToMatch, type FlowSlots } from './match.js';
import { textField } from './fields.js';
import { parseInteger, parsePort, parseU16 } from './values.js';

export type FlowCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';

export const FLOW_FLAGS = ['send_flow_rem', 'check_overlap', 'reset_counts', 'no_packet_counts', 'no_byte_counts'] as const;
export type FlowFlag = typeof FLOW_FLAGS[number];

export interface TextFlow {
  readonly command: FlowCommand;
  /** Normalized tsw Match (what goes on the wire). */
  readonly match: Match;
  /** The flow slots as parsed (before normalization), for printing. */
  readonly slots: FlowSlots;
  readonly priority: number;
  /** 255 = unspecified (all tables for deletes, table 0 for adds). */
  readonly table: number;
  readonly cookie: bigint;
  readonly cookie_mask: bigint;
  readonly idle_timeout: number;
  readonly hard_timeout: number;
  readonly importance: number;
  readonly flags: readonly FlowFlag[];
  readonly out_port: number;
  readonly out_group: number;
  readonly actions: readonly TextAction[];
}

const PROTOCOLS: Readonly<Record<string, [number, number]>> = {
  ip: [0x0800, 0], ipv4: [0x0800, 0], ip4: [0x0800, 0], arp: [0x0806, 0], icmp: [0x0800, 1], tcp: [0x0800, 6],
  udp: [0x0800, 17], sctp: [0x0800, 132], ipv6: [0x86dd, 0], ip6: [0x86dd, 0], icmp6: [0x86dd, 58], tcp6: [0x86dd, 6],
  udp6: [0x86dd, 17], sctp6: [0x86dd, 132], rarp: [0x8035, 0], mpls: [0x8847, 0], mplsm: [0x8848, 0],
};

/** Splits off the actions: everything after the first "action...=" (ofp_extract_actions). */
function extractActions(s: string): [string, string | undefined] {
  const i = s.indexOf('action');
  if (i < 0) return [s, undefined];
  const eq = s.indexOf('=', i + 1);
  return [s.slice(0, i), eq < 0 ? undefined : s.slice(eq + 1)];
}

/** Parses one flow in ovs-ofctl syntax; `command` 'add' unless given (or named first in the text when `leadingCommand`). */
export function parseFlow(text: string, command: FlowCommand = 'add'): TextFlow {
  const withActions = command === 'add' || command === 'modify' || command === 'modify_strict';
  const flagsOk = withActions;
  const outPortOk = command === 'delete' || command === 'delete_strict';
  let [matchText, actText] = [text, undefined as string | undefined];
  if (withActions) {
    [matchText, actText] = extractActions(text);
    if (actText === undefined) fail('must specify an action');
  }
  const slots: FlowSlots = new Map();
  let priority = OFP_DEFAULT_PRIORITY;
  let table = 0xff;
  let cookie = 0n;
  let cookieMask = 0n;
  let idle = 0;
  let hard = 0;
  let importance = 0;
  let outPort = 0xffff;
  let outGroup = 0xffffffff;
  const flags = new Set<FlowFlag>();
  for (const tok of splitTopLevel(matchText)) {
    const m = /^([^:=(]*)(?:[:=(](.*))?$/s.exec(tok) as RegExpExecArray;
    const name = m[1];
    const value = m[2] ?? '';
    const proto = PROTOCOLS[name];
    if (proto) {
      setField(slots, textField('eth_type')!, BigInt(proto[0]), 0xffffn);
      if (proto[1]) setField(slots, textField('nw_proto')!, BigInt(proto[1]), 0xffn);
      continue;
    }
    if (flagsOk && (FLOW_FLAGS as readonly string[]).includes(name)) {
      flags.add(name as FlowFlag);
      continue;
    }
    if (name === 'no_readonly_table' || name === 'allow_hidden_fields') continue;
    if (parseMatchField(slots, name, value)) continue;
    if (!value) fail(`field ${name} missing value`);
    switch (name) {
      case 'table': {
        const t = parseInteger(value);
        if (t === undefined || t > 255n) fail(`unknown table "${value}"`);
        table = Number(t);
        break;
      }
      case 'priority': if (!outPortOk || command === 'delete_strict') { priority = parseU16(value, name); break; } fail(`unknown keyword ${name}`); break;
      case 'idle_timeout': if (withActions) { idle = parseU16(value, name); break; } fail(`unknown keyword ${name}`); break;
      case 'hard_timeout': if (withActions) { hard = parseU16(value, name); break; } fail(`unknown keyword ${name}`); break;
      case 'importance': if (command === 'add') { importance = parseU16(value, name); break; } fail(`unknown keyword ${name}`); break;
      case 'out_port': {
        if (!outPortOk) fail(`unknown keyword ${name}`);
        const p = parsePort(value);
        if (p === undefined) fail(`${value} is not a valid OpenFlow port`);
        outPort = p;
        break;
      }
      case 'out_group': {
        if (!outPortOk) fail(`unknown keyword ${name}`);
        const g = parseInteger(value) ?? ({ ALL: 0xfffffffcn, ANY: 0xffffffffn } as Record<string, bigint>)[value.toUpperCase()];
        if (g === undefined || g > 0xffffffffn) fail(`${value} is not a valid OpenFlow group`);
        outGroup = Number(g);
        break;
      }
      case 'cookie': {
        const [c, cm] = value.split('/');
        if (cm !== undefined && command === 'add') fail('flow additions cannot use a cookie mask');
        const cv = parseCookie(c);
        if (cm !== undefined) {
          cookie = cv;
          cookieMask = cm === '-1' ? (1n << 64n) - 1n : parseCookie(cm);
        } else {
          if (outPortOk) fail(`cannot set cookie (to match on a cookie, specify a mask, e.g. cookie=${value}/-1)`);
          cookie = cv;
        }
        break;
      }
      case 'duration': case 'n_packets': case 'n_bytes': case 'idle_age': case 'hard_age':
        break;
      default:
        fail(`unknown keyword ${name}`);
    }
  }
  const actions = actText === undefined ? [] : parseActions(actText);
  checkSetFields(actions, slots);
  return {
    command, match: slotsToMatch(slots), slots, priority, table, cookie, cookie_mask: cookieMask, idle_timeout: idle,
    hard_timeout: hard, importance, flags: FLOW_FLAGS.filter((f) => flags.has(f)), out_port: outPort, out_group: outGroup, actions,
  };
}

/** Field prerequisites for set_field in terms of the match (dl_type, nw_proto) — OVS's ofpacts_check. */
const SET_FIELD_PREREQ: Readonly<Record<string, (dl: bigint | undefined, proto: bigint | undefined) => boolean>> = (() => {
  const ip4 = (dl: bigint | undefined) => dl === 0x0800n;
  const ipAny = (dl: bigint | undefined) => dl === 0x0800n || dl === 0x86ddn;
  const l4 = (p: bigint) => (dl: bigint | undefined, proto: bigint | undefined) => ipAny(dl) && proto === p;
  const arp = (dl: bigint | undefined) => dl === 0x0806n || dl === 0x8035n;
  return {
    ip_src: ip4, ip_dst: ip4, nw_tos: ipAny, ip_dscp: ipAny, nw_ecn: ipAny, nw_ttl: ipAny,
    ipv6_src: (dl) => dl === 0x86ddn, ipv6_dst: (dl) => dl === 0x86ddn, ipv6_label: (dl) => dl === 0x86ddn,
    tcp_src: l4(6n), tcp_dst: l4(6n), udp_src: l4(17n), udp_dst: l4(17n), sctp_src: l4(132n), sctp_dst: l4(132n),
    arp_op: arp, arp_spa: arp, arp_tpa: arp, arp_sha: arp, arp_tha: arp,
    icmp_type: (dl, p) => dl === 0x0800n && p === 1n, icmp_code: (dl, p) => dl === 0x0800n && p === 1n,
  };
})();

function checkSetFields(actions: readonly TextAction[], slots: FlowSlots): void {
  const dl = slots.get('dl_type')?.value;
  const proto = slots.get('nw_proto')?.value;
  const tci = slots.get('vlan_tci');
  // A push_vlan earlier in the list gives the packet a tag to set fields in (OVS's ofpacts_check follows the flow).
  let vlanOk = !!tci && (tci.value & tci.mask & 0x1000n) !== 0n;
  for (const a of actions) {
    if (a.type === 'push_vlan') vlanOk = true;
    if (a.type === 'strip_vlan') vlanOk = false;
    if (a.type === 'write_actions' || a.type === 'clone') checkSetFields(a.actions, slots);
    if (a.type !== 'set_field' || a.load) continue;
    const name = a.field.name;
    if (name === 'ct_mark' || name === 'ct_label') fail('cannot set CT fields outside of ct action');
    const ok = name === 'vlan_vid' || name === 'vlan_pcp' ? vlanOk : (SET_FIELD_PREREQ[name]?.(dl, proto) ?? true);
    if (!ok) fail('actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
  }
}

function parseCookie(s: string): bigint {
  const v = parseInteger(s);
  if (v === undefined || v >= 1n << 64n) fail(`invalid numeric format ${s}`);
  return v;
}

/** Flags a protocol carries (older ones drop the rest on the wire). */
function flagsFor(p: Protocol): readonly FlowFlag[] {
  const v = protocolVersion(p);
  if (v >= 4) return FLOW_FLAGS;
  if (v >= 3) return ['send_flow_rem', 'check_overlap', 'reset_counts'];
  return ['send_flow_rem', 'check_overlap'];
}

const COMMAND_NAMES: Readonly<Record<FlowCommand, string>> = {
  add: 'ADD', modify: 'MOD', modify_strict: 'MOD_STRICT', delete: 'DEL', delete_strict: 'DEL_STRICT',
};

/**
 * The flow as ovs-ofctl prints its flow_mod after encoding it in `protocol`
 * (the text after "OFPT_FLOW_MOD (xid=…): "), e.g. `ADD priority=10,in_port=1 actions=output:2`.
 */
export function formatFlowMod(flow: TextFlow, protocol: Protocol = 'OpenFlow10'): string {
  const v = protocolVersion(protocol);
  let s = COMMAND_NAMES[flow.command];
  // OF1.0 carries a table only with the table_id extension; OF1.1+ adds to table 0 when none is given.
  const tid = protocol.endsWith('+table_id');
  const table = v === 1 ? (tid ? flow.table : 0) : flow.table === 0xff && flow.command === 'add' ? 0 : flow.table;
  if (table !== 0) s += ` table:${table}`;
  s += ' ';
  const match = formatMatch(normalizeSlots(flow.slots), flow.priority);
  if (match) s += match + ' ';
  if (flow.cookie !== 0n && flow.cookie_mask === 0n) s += `cookie:0x${flow.cookie.toString(16)} `;
  if (flow.cookie_mask !== 0n) s += `cookie:0x${flow.cookie.toString(16)}/0x${flow.cookie_mask.toString(16)} `;
  if (flow.idle_timeout) s += `idle:${flow.idle_timeout} `;
  if (flow.hard_timeout) s += `hard:${flow.hard_timeout} `;
  if (flow.importance && v >= 5) s += `importance:${flow.importance} `;
  if (flow.out_port !== 0xffff) s += `out_port:${flow.out_port} `;
  if (flow.out_group !== 0xffffffff && v >= 2) s += `out_group:${flow.out_group} `;
  const carried = flagsFor(protocol);
  for (const f of flow.flags) if (carried.includes(f)) s += `${f} `;
  if (flow.command === 'delete' || flow.command === 'delete_strict') return s.trimEnd();
  return s + 'actions=' + formatActions(flow.actions, protocol);
}

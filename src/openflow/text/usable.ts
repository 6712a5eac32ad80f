// Which OpenFlow "protocols" (OVS's ofputil_protocol: a version plus, for
// OF1.0, the flow format and the table_id extension) can carry what a flow,
// group or action list says. ovs-ofctl narrows the set keyword by keyword
// while it parses, prints it as "usable protocols: ...", and sends in the
// first protocol of the set that the -O versions allow.

import { READ_ONLY_FIELDS } from '../fields.js';
import { fail } from './errors.js';
import { splitTopLevel, type Protocol, type TextAction } from './actions.js';
import { textField, type TextField } from './fields.js';
import { parseFieldValue, type FlowSlots } from './match.js';
import type { TextFlow } from './flow.js';

/** The protocol bits, in OVS's order (the lowest allowed one is chosen). */
export const P = {
  OF10_STD: 1 << 0, OF10_STD_TID: 1 << 1, OF10_NXM: 1 << 2, OF10_NXM_TID: 1 << 3, OF11_STD: 1 << 4,
  OF12_OXM: 1 << 5, OF13_OXM: 1 << 6, OF14_OXM: 1 << 7, OF15_OXM: 1 << 8,
} as const;

export const P_ANY = (1 << 9) - 1;
export const P_OF10_ANY = P.OF10_STD | P.OF10_STD_TID | P.OF10_NXM | P.OF10_NXM_TID;
export const P_ANY_OXM = P.OF12_OXM | P.OF13_OXM | P.OF14_OXM | P.OF15_OXM;
export const P_NXM_OXM_ANY = P.OF10_NXM | P.OF10_NXM_TID | P_ANY_OXM;
export const P_NXM_OF11_UP = P_NXM_OXM_ANY | P.OF11_STD;
export const P_OF11_UP = P.OF11_STD | P_ANY_OXM;
export const P_OF12_UP = P_ANY_OXM;
export const P_OF13_UP = P.OF13_OXM | P.OF14_OXM | P.OF15_OXM;
export const P_OF15_UP = P.OF15_OXM;
/** Protocols that can say which table a flow goes to. */
export const P_TID = P.OF10_STD_TID | P.OF10_NXM_TID | P.OF11_STD | P_ANY_OXM;

const BIT_NAMES: readonly [number, string, Protocol][] = [
  [P.OF10_STD, 'OpenFlow10-table_id', 'OpenFlow10'], [P.OF10_STD_TID, 'OpenFlow10+table_id', 'OpenFlow10+table_id'],
  [P.OF10_NXM, 'NXM-table_id', 'NXM'], [P.OF10_NXM_TID, 'NXM+table_id', 'NXM+table_id'], [P.OF11_STD, 'OpenFlow11', 'OpenFlow11'],
  [P.OF12_OXM, 'OXM-OpenFlow12', 'OpenFlow12'], [P.OF13_OXM, 'OXM-OpenFlow13', 'OpenFlow13'],
  [P.OF14_OXM, 'OXM-OpenFlow14', 'OpenFlow14'], [P.OF15_OXM, 'OXM-OpenFlow15', 'OpenFlow15'],
];
const ABBREVS: readonly [number, string][] = [
  [P_ANY, 'any'], [P.OF10_STD | P.OF10_STD_TID, 'OpenFlow10'], [P.OF10_NXM | P.OF10_NXM_TID, 'NXM'], [P_ANY_OXM, 'OXM'],
];

/** A single protocol bit's name as ovs-ofctl prints it ("chosen protocol: NXM-table_id"). */
export function protocolBitName(bit: number): string {
  const hit = BIT_NAMES.find(([b]) => b === bit);
  if (!hit) throw new RangeError(`not a single protocol: ${bit}`);
  return hit[1];
}

/** The text layer's Protocol for a single protocol bit. */
export function protocolOfBit(bit: number): Protocol {
  const hit = BIT_NAMES.find(([b]) => b === bit);
  if (!hit) throw new RangeError(`not a single protocol: ${bit}`);
  return hit[2];
}

/** The OpenFlow version (1 = OF1.0 … 6 = OF1.5) of a single protocol bit. */
export function versionOfBit(bit: number): number {
  return bit & P_OF10_ANY ? 1 : bit === P.OF11_STD ? 2 : bit === P.OF12_OXM ? 3 : bit === P.OF13_OXM ? 4 : bit === P.OF14_OXM ? 5 : 6;
}

/** A set of protocols as ovs-ofctl prints it: abbreviations first ("OXM,OpenFlow10+table_id,NXM+table_id,OpenFlow11"). */
export function protocolsToString(set: number): string {
  if (!set) return 'none';
  const parts: string[] = [];
  let rest = set;
  while (rest) {
    const abbrev = ABBREVS.find(([m]) => (rest & m) === m);
    if (abbrev) {
      parts.push(abbrev[1]);
      rest &= ~abbrev[0];
      continue;
    }
    const bit = rest & -rest;
    parts.push(protocolBitName(bit));
    rest &= ~bit;
  }
  return parts.join(',');
}

/** The protocols of a set of OpenFlow versions (what -O allows). */
export function protocolsOfVersions(versions: Iterable<number>): number {
  let set = 0;
  for (const v of versions) {
    set |= v === 1 ? P_OF10_ANY : v === 2 ? P.OF11_STD : v === 3 ? P.OF12_OXM : v === 4 ? P.OF13_OXM : v === 5 ? P.OF14_OXM : v === 6 ? P.OF15_OXM : 0;
  }
  return set;
}

// ---------------------------------------------------------------- fields

const X = P_NXM_OXM_ANY;
const A = P_ANY;
const N = 0;
const U = P_NXM_OF11_UP;
/** Per field: usable when matched exactly, with a CIDR mask, with any other mask (OVS's meta-flow table). */
const FIELD_PROTOCOLS: Readonly<Record<string, readonly [number, number, number]>> = {
  dp_hash: [X, X, X], recirc_id: [X, N, N], packet_type: [X, N, N], conj_id: [X, N, N], tun_id: [X, X, X],
  tun_src: [X, X, X], tun_dst: [X, X, X], tun_ipv6_src: [X, X, X], tun_ipv6_dst: [X, X, X], tun_flags: [X, X, X],
  tun_gbp_id: [X, X, X], tun_gbp_flags: [X, X, X], metadata: [U, U, U], in_port: [A, N, N], in_port_oxm: [U, N, N],
  actset_output: [X, N, N], skb_priority: [N, N, N], pkt_mark: [X, X, X], ct_state: [X, X, X], ct_zone: [X, N, N],
  ct_mark: [X, X, X], ct_label: [X, X, X], ct_nw_proto: [X, N, N], ct_nw_src: [X, X, X], ct_nw_dst: [X, X, X],
  ct_ipv6_src: [X, X, X], ct_ipv6_dst: [X, X, X], ct_tp_src: [X, X, X], ct_tp_dst: [X, X, X],
  eth_src: [A, U, U], eth_dst: [A, U, U], eth_type: [A, N, N], vlan_tci: [A, X, X], dl_vlan: [A, N, N], vlan_vid: [A, X, X],
  dl_vlan_pcp: [A, N, N], vlan_pcp: [A, N, N], mpls_label: [U, N, N], mpls_tc: [U, N, N], mpls_bos: [X, N, N], mpls_ttl: [X, N, N],
  ip_src: [A, A, U], ip_dst: [A, A, U], ipv6_src: [X, X, X], ipv6_dst: [X, X, X], ipv6_label: [X, X, X], nw_proto: [A, N, N],
  nw_tos: [A, N, N], ip_dscp: [A, N, N], nw_ecn: [U, N, N], nw_ttl: [X, N, N], ip_frag: [X, X, X], arp_op: [A, N, N],
  arp_spa: [A, A, U], arp_tpa: [A, A, U], arp_sha: [X, X, X], arp_tha: [X, X, X], tcp_src: [A, X, X], tcp_dst: [A, X, X],
  tcp_flags: [X, X, X], udp_src: [A, X, X], udp_dst: [A, X, X], sctp_src: [U, X, X], sctp_dst: [U, X, X],
  icmp_type: [A, N, N], icmp_code: [A, N, N], icmpv6_type: [X, N, N], icmpv6_code: [X, N, N], nd_target: [X, X, X],
  nd_sll: [X, X, X], nd_tll: [X, X, X], nd_reserved: [X, N, N], nd_options_type: [X, N, N],
  tun_erspan_idx: [X, X, X], tun_erspan_ver: [X, X, X], tun_erspan_dir: [X, X, X], tun_erspan_hwid: [X, X, X],
  tun_gtpu_flags: [X, X, X], tun_gtpu_msgtype: [X, X, X], nsh_flags: [X, X, X], nsh_ttl: [X, N, N], nsh_mdtype: [X, N, N],
  nsh_np: [X, N, N], nsh_spi: [X, N, N], nsh_si: [X, N, N], nsh_c1: [X, X, X], nsh_c2: [X, X, X], nsh_c3: [X, X, X], nsh_c4: [X, X, X],
};

function fieldProtocols(f: TextField): readonly [number, number, number] {
  if (/^reg\d+$|^xx?reg\d+$/.test(f.name)) return [X, X, X];
  return FIELD_PROTOCOLS[f.name] ?? [X, X, X];
}

/** Usable protocols for matching (or setting) the whole field exactly. */
export function fieldExactProtocols(f: TextField): number {
  return fieldProtocols(f)[0];
}

/** A 32-bit mask of leading ones (OVS's ip_is_cidr). */
function isCidr32(m: bigint): boolean {
  const inv = ~Number(m & 0xffffffffn) >>> 0;
  return (inv & (inv + 1)) === 0;
}

/**
 * Usable protocols for one field=value of a match (OVS's mf_set result):
 * exact, wildcarded, or masked (where OF1.0 takes CIDR masks of IPv4 fields only).
 * `mask` is over the field's whole bytes, as written after "/".
 */
export function fieldMatchProtocols(f: TextField, mask: bigint): number {
  const [exact, cidr, bitwise] = fieldProtocols(f);
  const bytes = Math.ceil(f.bits / 8);
  const all = (1n << BigInt(8 * bytes)) - 1n;
  if ((mask & all) === all) return exact;
  // A tun_metadata match with a zero mask still asks for the option to be present.
  if ((mask & all) === 0n) return f.bits === 992 ? exact : P_ANY;
  if (cidr === bitwise) return cidr;
  return isCidr32(mask >> BigInt(Math.max(0, 8 * bytes - 32))) ? cidr : bitwise;
}

/** The usable protocols of the match keywords of a flow (the text before "actions="). */
export function matchProtocols(matchText: string, slots: FlowSlots): number {
  let usable = P_ANY;
  for (const tok of splitTopLevel(matchText)) {
    const m = /^([^:=(]*)(?:[:=(](.*))?$/s.exec(tok) as RegExpExecArray;
    const f = textField(m[1]);
    if (!f) continue;
    const value = m[2] ?? '';
    if (value === '' && f.bits === 992) usable &= fieldExactProtocols(f);
    if (value === '') continue;
    const v = parseFieldValue(f, value);
    // Without a "/mask" (or a flag syntax) the field is matched exactly, whatever its meaningful bits.
    const masked = value.includes('/') || f.format === 'tcp_flags' || f.format === 'ct_state' || f.format === 'tun_flags' || f.format === 'frag';
    usable &= masked ? fieldMatchProtocols(f, v.mask) : fieldExactProtocols(f);
  }
  // Only NXM and OXM match L3/L4 fields inside IPv6.
  if (slots.get('dl_type')?.value === 0x86ddn) {
    if (['nw_proto', 'nw_tos', 'tp_src', 'tp_dst'].some((s) => (slots.get(s)?.mask ?? 0n) !== 0n)) usable &= P_NXM_OXM_ANY;
  }
  return usable;
}

// ---------------------------------------------------------------- actions

/**
 * What parsing an action list narrows (OVS's ofpacts_parse): push_vlan needs
 * OF1.1+, set_field the field's protocols, meter OF1.3+ (OF1.5 where it is an
 * action rather than an instruction), write_metadata NXM or OF1.1+. A clone
 * restarts from every protocol, as OVS's parser does.
 */
export function actionsParseProtocols(list: readonly TextAction[], instructions: boolean, start = P_ANY): number {
  let usable = start;
  for (const a of list) {
    switch (a.type) {
      case 'push_vlan': usable &= P_OF11_UP; break;
      case 'set_field': if (!a.load) usable &= fieldExactProtocols(a.field); break;
      case 'meter': usable &= instructions ? P_OF13_UP : P_OF13_UP & P_OF15_UP; break;
      case 'write_metadata': usable &= P_NXM_OF11_UP; break;
      case 'write_actions': usable = actionsParseProtocols(a.actions, false, usable); break;
      case 'clone': usable = actionsParseProtocols(a.actions, false, P_ANY); break;
      case 'ct': usable &= actionsParseProtocols(a.exec, false); break;
      default: break;
    }
  }
  return usable;
}

interface CheckState { dl: bigint | undefined; proto: bigint | undefined; vlan: boolean; later: boolean; icmpType: bigint; icmpCode: bigint }

function stateOf(slots: FlowSlots): CheckState {
  const tci = slots.get('vlan_tci');
  return {
    dl: slots.get('dl_type')?.value,
    proto: slots.get('nw_proto')?.value,
    vlan: !!tci && (tci.value & 0x1000n) !== 0n,
    later: ((slots.get('nw_frag')?.value ?? 0n) & 2n) !== 0n,
    icmpType: slots.get('tp_src')?.value ?? 0n,
    icmpCode: slots.get('tp_dst')?.value ?? 0n,
  };
}

const isIpAny = (st: CheckState) => st.dl === 0x0800n || st.dl === 0x86ddn;
const isMpls = (st: CheckState) => st.dl === 0x8847n || st.dl === 0x8848n;
const isNsh = (st: CheckState) => st.dl === 0x894fn;
/** A neighbor solicitation or advertisement, judged by the flow's values as OVS's is_nd does. */
const isNd = (st: CheckState) => st.dl === 0x86ddn && st.proto === 58n && st.icmpCode === 0n && (st.icmpType === 135n || st.icmpType === 136n);

/**
 * What checking the actions against the match narrows (OVS's ofpacts_check):
 * an action that needs what the match does not promise is tolerated only by
 * OF1.0, which drops it. Throws FlowSyntaxError for the hard errors.
 */
export function actionsCheckProtocols(list: readonly TextAction[], slots: FlowSlots, table: number): number {
  return checkList(list, stateOf(slots), table);
}

/** set_field prerequisites the flow parser leaves to this check (MPLS, ICMPv6, ND and NSH fields). */
const SET_FIELD_NEEDS: Readonly<Record<string, (st: CheckState) => boolean>> = {
  mpls_label: isMpls, mpls_tc: isMpls, mpls_bos: isMpls, mpls_ttl: isMpls,
  icmpv6_type: (st) => st.dl === 0x86ddn && st.proto === 58n, icmpv6_code: (st) => st.dl === 0x86ddn && st.proto === 58n,
  nd_reserved: isNd, nd_options_type: isNd,
  ...Object.fromEntries(['nsh_flags', 'nsh_ttl', 'nsh_mdtype', 'nsh_np', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4'].map((n) => [n, isNsh])),
};

function checkList(list: readonly TextAction[], st: CheckState, table: number): number {
  let usable = P_ANY;
  const inconsistent = () => { usable &= P_OF10_ANY; };
  for (const a of list) {
    switch (a.type) {
      case 'mod_vlan_vid': case 'mod_vlan_pcp': st.vlan = true; break;
      case 'strip_vlan': if (!st.vlan) inconsistent(); st.vlan = false; break;
      case 'push_vlan': st.vlan = true; break;
      case 'mod_nw_src': case 'mod_nw_dst': if (st.dl !== 0x0800n) inconsistent(); break;
      case 'mod_nw_tos': case 'mod_nw_ecn': case 'mod_nw_ttl': case 'dec_ttl': if (!isIpAny(st)) inconsistent(); break;
      case 'mod_tp_src': case 'mod_tp_dst':
        if (!isIpAny(st) || st.later || !(st.proto === 6n || st.proto === 17n || st.proto === 132n)) inconsistent();
        break;
      case 'set_mpls_label': case 'set_mpls_tc': case 'set_mpls_ttl': case 'dec_mpls_ttl': if (!isMpls(st)) inconsistent(); break;
      case 'push_mpls': st.dl = BigInt(a.ethertype); st.proto = 0n; break;
      case 'pop_mpls': if (!isMpls(st)) inconsistent(); st.dl = BigInt(a.ethertype); break;
      case 'fin_timeout': if (st.proto !== 6n) inconsistent(); break;
      case 'set_field':
        if (a.load) break;
        if (SET_FIELD_NEEDS[a.field.name] && !SET_FIELD_NEEDS[a.field.name](st)) fail('actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
        if (a.field.name === 'vlan_tci') st.vlan = (a.value & 0x1000n) !== 0n;
        break;
      case 'move':
        // OVS checks a move's destination when it checks the actions (a load's only when it decodes them).
        if (READ_ONLY_FIELDS.has(a.dst.field.name) || READ_ONLY_FIELDS.has(a.dst.field.tsw ?? '')) {
          fail('actions are invalid with specified match (OFPBAC_BAD_SET_ARGUMENT)');
        }
        break;
      case 'goto_table':
        if (table !== 0xff && a.table <= table) fail('actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)');
        break;
      case 'clone': usable &= checkList(a.actions, { ...st }, table); break;
      case 'write_actions': checkList(a.actions, { ...st }, table); break;
      case 'ct': usable &= checkList(a.exec, { ...st }, table); break;
      default: break;
    }
  }
  return usable;
}

// ---------------------------------------------------------------- whole flows

/**
 * The usable protocols of a flow parsed from `text` (ovs-ofctl's add-flow
 * syntax): its match keywords, flags, table, cookie mask and actions. Throws
 * FlowSyntaxError when no protocol can carry the actions with this match.
 */
export function flowProtocols(text: string, flow: TextFlow): number {
  const i = text.indexOf('action');
  let usable = matchProtocols(i < 0 ? text : text.slice(0, i), flow.slots);
  if (flow.flags.includes('reset_counts')) usable &= P_OF12_UP;
  if (flow.flags.includes('no_packet_counts') || flow.flags.includes('no_byte_counts')) usable &= P_OF13_UP;
  if (flow.table !== 0xff) usable &= P_TID;
  if (flow.out_group !== 0xffffffff) usable &= P_OF11_UP;
  if (flow.cookie_mask !== 0n) usable &= P_NXM_OF11_UP;
  if (flow.command === 'delete' || flow.command === 'delete_strict') return usable;
  usable &= actionsParseProtocols(flow.actions, true);
  usable &= actionsCheckProtocols(flow.actions, flow.slots, flow.table);
  if (!usable) fail('actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
  return usable;
}

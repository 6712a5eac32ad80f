// Actions that change the flow's fields: set_field/load/move with their
// prerequisites, VLAN and MPLS tags, TTLs; and the trace's report of a
// subfield's new value.

import { formatSubfield, type SubfieldRef, type TextField } from '../openflow/index.js';
import type { XlateContext } from './context.js';
import { ETH_TYPE, VLAN_CFI, applyFlowToPacket, extractFlow, get, getNum, getSubfield, isIp, isMpls, mark, set, setText } from './key.js';
import { commit } from './odp.js';
import { controllerAction } from './output.js';

const ETH_TYPES_IP = new Set<number>([ETH_TYPE.IP, ETH_TYPE.IPV6]);

/** Whether a field exists in the packet (mf_are_prereqs_ok), by its text name. */
export function prereqsOk(ctx: XlateContext, f: TextField): boolean {
  const t = getNum(ctx.key, 'eth_type');
  const proto = () => getNum(ctx.key, 'nw_proto');
  switch (f.name) {
    case 'ip_src': case 'ip_dst': return t === ETH_TYPE.IP;
    case 'ipv6_src': case 'ipv6_dst': case 'ipv6_label': return t === ETH_TYPE.IPV6;
    case 'nw_proto': case 'nw_tos': case 'ip_dscp': case 'nw_ecn': case 'nw_ttl': case 'ip_frag': return ETH_TYPES_IP.has(t);
    case 'arp_op': case 'arp_spa': case 'arp_tpa': case 'arp_sha': case 'arp_tha': return t === ETH_TYPE.ARP || t === ETH_TYPE.RARP;
    case 'tcp_src': case 'tcp_dst': case 'tcp_flags': return ETH_TYPES_IP.has(t) && proto() === 6;
    case 'udp_src': case 'udp_dst': return ETH_TYPES_IP.has(t) && proto() === 17;
    case 'sctp_src': case 'sctp_dst': return ETH_TYPES_IP.has(t) && proto() === 132;
    case 'icmp_type': case 'icmp_code': return t === ETH_TYPE.IP && proto() === 1;
    case 'icmpv6_type': case 'icmpv6_code': return t === ETH_TYPE.IPV6 && proto() === 58;
    case 'mpls_label': case 'mpls_tc': case 'mpls_bos': case 'mpls_ttl': return isMpls(ctx.key);
    case 'nd_target': case 'nd_reserved': case 'nd_options_type': return ndIs(ctx, 135) || ndIs(ctx, 136);
    case 'nd_sll': return ndIs(ctx, 135);
    case 'nd_tll': return ndIs(ctx, 136);
    default: return f.name.startsWith('nsh_') ? t === ETH_NSH : true;
  }
}

const ETH_NSH = 0x894f;

/** An ICMPv6 neighbour solicitation (135) or advertisement (136): code 0 only, as OVS parses them. */
function ndIs(ctx: XlateContext, type: number): boolean {
  return getNum(ctx.key, 'eth_type') === ETH_TYPE.IPV6 && getNum(ctx.key, 'nw_proto') === 58
    && getNum(ctx.key, 'icmpv6_type') === type && getNum(ctx.key, 'icmpv6_code') === 0;
}

/** The fields that said a set field exists (OVS's mf_mask_field_and_prereqs): an ND field needs type and code too. */
function markPrereqs(ctx: XlateContext, f: TextField): void {
  mark(ctx.wc, 'eth_type');
  if (/^(tcp|udp|sctp|icmp|icmpv6|nd)_/.test(f.name) || f.name === 'tcp_flags') mark(ctx.wc, 'nw_proto');
  if (f.name.startsWith('nd_')) {
    mark(ctx.wc, 'icmpv6_type');
    mark(ctx.wc, 'icmpv6_code');
  }
}

export function setFieldAction(ctx: XlateContext, f: TextField, value: bigint, mask: bigint): void {
  if (!prereqsOk(ctx, f)) {
    ctx.report('warn', `unmet prerequisites for ${f.name}, set_field ignored`);
    return;
  }
  markPrereqs(ctx, f);
  const pushedTag = (ctx.vlanPushed > 0 && /vlan/.test(f.name)) || (ctx.mplsPushed > 0 && f.name.startsWith('mpls_'));
  setText(ctx.key, f, value, mask, pushedTag ? null : ctx.wc, ctx.bridge.tlvTable);
}

export function setVlan(ctx: XlateContext, bits: number, value: number): void {
  if (!ctx.vlanPushed) mark(ctx.wc, 'vlan_tci', BigInt(bits | VLAN_CFI));
  const tci = getNum(ctx.key, 'vlan_tci');
  set(ctx.key, 'vlan_tci', (tci & ~bits) | (value & bits) | VLAN_CFI);
}

export function pushMpls(ctx: XlateContext, ethertype: number): void {
  if (!isMpls(ctx.key)) {
    // The new label takes the IP TTL and the top bits of the TOS, as OVS's flow_push_mpls.
    const ip = isIp(ctx.key);
    if (ip) {
      mark(ctx.wc, 'nw_ttl');
      mark(ctx.wc, 'nw_tos');
    }
    const ttl = ip ? getNum(ctx.key, 'nw_ttl') : 64;
    const tc = ip ? (getNum(ctx.key, 'nw_tos') >> 5) & 7 : 0;
    ctx.mplsPushed++;
    set(ctx.key, 'eth_type', ethertype);
    set(ctx.key, 'mpls_label', 0);
    set(ctx.key, 'mpls_tc', tc);
    set(ctx.key, 'mpls_ttl', ttl);
    set(ctx.key, 'mpls_bos', 1);
  } else {
    ctx.mplsPushed++;
    set(ctx.key, 'eth_type', ethertype);
    set(ctx.key, 'mpls_bos', 0);
  }
}

export function popMpls(ctx: XlateContext, ethertype: number): void {
  if (!isMpls(ctx.key)) return;
  if (ctx.mplsPushed) ctx.mplsPushed--;
  else mark(ctx.wc, 'mpls_bos');
  if (getNum(ctx.key, 'mpls_bos') !== 1) {
    // Only the outermost label of a stack can be popped here: the next one is not in the flow.
    set(ctx.key, 'eth_type', ethertype);
    ctx.wasMpls = true;
    return;
  }
  for (const n of ['mpls_label', 'mpls_tc', 'mpls_ttl', 'mpls_bos']) set(ctx.key, n, 0);
  set(ctx.key, 'eth_type', ethertype);
  ctx.wasMpls = true;
}

/** After pop_mpls the inner headers are unknown to the flow: parse the packet again, keeping the metadata. */
export function reparse(ctx: XlateContext): void {
  ctx.wasMpls = false;
  if (!ctx.packet) return;
  commit(ctx);
  const frame = applyFlowToPacket(ctx.packet, ctx.base, ctx.committed);
  const fresh = new Uint32Array(ctx.key.length);
  extractFlow(frame, frame.length, getNum(ctx.key, 'in_port'), fresh);
  for (const name of ['metadata', 'tun_id', 'pkt_mark', ...Array.from({ length: 16 }, (_, i) => `reg${i}`)]) set(fresh, name, get(ctx.key, name));
  ctx.key.set(fresh);
  ctx.committed.set(fresh);
  ctx.base.set(fresh);
  ctx.packet = frame;
}

/** Returns true when the rest of the list is skipped (TTL exception). */
export function decTtl(ctx: XlateContext, ids: readonly number[]): boolean {
  if (!isIp(ctx.key)) return false;
  mark(ctx.wc, 'nw_ttl');
  mark(ctx.wc, 'nw_proto');
  const ttl = getNum(ctx.key, 'nw_ttl');
  if (ttl > 1) {
    set(ctx.key, 'nw_ttl', ttl - 1);
    return false;
  }
  for (const id of ids.length ? ids : [0]) controllerAction(ctx, 0xffff, 'invalid_ttl', id);
  ctx.report('warn', `IPv${getNum(ctx.key, 'eth_type') === ETH_TYPE.IP ? 4 : 6} decrement TTL exception`);
  return true;
}

export function decMplsTtl(ctx: XlateContext): boolean {
  if (isMpls(ctx.key)) {
    if (!ctx.mplsPushed) mark(ctx.wc, 'mpls_ttl');
    const ttl = getNum(ctx.key, 'mpls_ttl');
    if (ttl > 1) {
      set(ctx.key, 'mpls_ttl', ttl - 1);
      return false;
    }
    controllerAction(ctx, 0xffff, 'invalid_ttl', 0);
  }
  ctx.report('warn', 'MPLS decrement TTL exception');
  return true;
}

/** "NXM_NX_REG1[0..1] is now 0x1": a subfield's new value, whole fields in their own format (xlate_report_subfield). */
export function reportSubfield(ctx: XlateContext, sf: SubfieldRef): void {
  ctx.report('detail', () => {
    const v = getSubfield(ctx.key, sf, ctx.bridge.tlvTable);
    const whole = sf.ofs === 0 && sf.n_bits >= sf.field.bits;
    return `${formatSubfield(sf)} is now ${whole ? formatFieldValue(sf.field, v) : `0x${v.toString(16)}`}`;
  });
}

function formatFieldValue(f: TextField, v: bigint): string {
  switch (f.format) {
    case 'eth': return v.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
    case 'ipv4': return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
    case 'dec': case 'port16': case 'port32': return String(v);
    default: return `0x${v.toString(16)}`;
  }
}


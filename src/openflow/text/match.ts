// The match part of the flow syntax: keywords into flow slots (order does not
// matter, as in ovs-ofctl), slots into tsw's Match (dropping what a switch
// would drop for unmet prerequisites), and back into the text ovs-ofctl prints.

import type { FieldMatch, Match } from '../match.js';
import { fail } from './errors.js';
import { CT_STATE_NAMES, SLOT_BITS, TCP_FLAG_NAMES, TEXT_FIELDS, textField, type TextField } from './fields.js';
import {
  altHex, formatEth, formatFlags, formatFlagsMasked, formatIpv4, formatIpv6, formatPort, hex, parseEth, parseFlags, parseInteger,
  parseIpv4, parseIpv6, parsePort, prefixLen, prefixMask,
} from './values.js';

export interface SlotValue {
  value: bigint;
  mask: bigint;
}

/** OVS's struct flow + wildcards, reduced to what the text syntax touches. */
export type FlowSlots = Map<string, SlotValue>;

const ones = (bits: number) => (1n << BigInt(bits)) - 1n;

/** Bytes of a field's value as ovs-ofctl checks "value too large" (meta-flow types). */
const FIELD_BYTES: Readonly<Record<string, number>> = {
  dl_vlan: 2, vlan_vid: 2, vlan_pcp: 1, dl_vlan_pcp: 1, arp_op: 2, ipv6_label: 4, mpls_label: 4, mpls_tc: 1, mpls_bos: 1,
  tcp_flags: 2, tun_flags: 2, in_port: 2, in_port_oxm: 4, ct_state: 4, ip_frag: 1, ip_dscp: 1, nw_ecn: 1, nsh_spi: 4,
};

function fieldBytes(f: TextField): number {
  return FIELD_BYTES[f.name] ?? Math.ceil(f.bits / 8);
}

/** Fields whose exact match covers the whole slot (icmp type/code live in 16-bit tp_src/tp_dst). */
const FULL_SLOT_MASK = new Set(['icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code']);

function slotWidth(f: TextField): number {
  return f.slots.reduce((n, s) => n + SLOT_BITS[s], 0);
}

function readSlots(slots: FlowSlots, f: TextField): SlotValue {
  let value = 0n;
  let mask = 0n;
  for (const s of f.slots) {
    const w = BigInt(SLOT_BITS[s]);
    const cur = slots.get(s);
    value = (value << w) | (cur?.value ?? 0n);
    mask = (mask << w) | (cur?.mask ?? 0n);
  }
  return { value, mask };
}

function writeSlots(slots: FlowSlots, f: TextField, v: SlotValue): void {
  let { value, mask } = v;
  for (let i = f.slots.length - 1; i >= 0; i--) {
    const s = f.slots[i];
    const w = ones(SLOT_BITS[s]);
    if (mask & w) slots.set(s, { value: value & mask & w, mask: mask & w });
    else slots.delete(s);
    value >>= BigInt(SLOT_BITS[s]);
    mask >>= BigInt(SLOT_BITS[s]);
  }
}

/**
 * Fields whose OVS setter stores the value as the mask (match_set_tun_erspan_ver_masked and
 * friends): "tun_erspan_ver=2" matches with mask 2, and a value of 0 matches nothing.
 */
const MASK_IS_VALUE = new Set(['tun_erspan_ver', 'tun_erspan_dir', 'tun_erspan_hwid', 'tun_gtpu_flags', 'tun_gtpu_msgtype']);

/** tun_metadataN: kept even with a zero mask (the option must still be present), and only once per match. */
const isTunMetadata = (f: TextField): boolean => f.bits === 992;

/** Sets a field's bits (value and mask) in the slots, leaving the slots' other bits alone (mf_set). */
export function setField(slots: FlowSlots, f: TextField, value: bigint, mask: bigint): void {
  if (isTunMetadata(f)) {
    if (slots.has(f.name)) fail(`field ${f.name} set multiple times`);
    slots.set(f.name, { value: value & mask, mask });
    return;
  }
  if (MASK_IS_VALUE.has(f.name)) {
    const v = value & ones(f.bits);
    if (v) slots.set(f.slots[0], { value: v & mask, mask: v });
    else slots.delete(f.slots[0]);
    return;
  }
  if (f.name === 'dl_vlan' && value === 0xffffn) {
    slots.set('vlan_tci', { value: 0n, mask: 0xffffn });
    return;
  }
  if (f.name === 'nw_tos') {
    value >>= 2n;
    mask = 0x3fn;
  }
  const shift = BigInt(f.name === 'nw_tos' ? 2 : f.shift);
  const bits = f.name === 'nw_tos' ? 6 : f.bits;
  const fm = ones(bits) << shift;
  const cur = readSlots(slots, f);
  let setMask = (mask & ones(bits)) << shift;
  if (FULL_SLOT_MASK.has(f.name) && setMask) setMask = ones(slotWidth(f));
  let nv = (cur.value & ~fm) | ((value & ones(bits)) << shift);
  let nm = (cur.mask & ~fm) | setMask;
  if (f.implied) {
    nv |= f.implied.bits;
    nm |= f.implied.bits;
  }
  writeSlots(slots, f, { value: nv & nm, mask: nm });
}

export function getField(slots: FlowSlots, f: TextField): SlotValue {
  const cur = readSlots(slots, f);
  const shift = BigInt(f.shift);
  return { value: (cur.value >> shift) & ones(f.bits), mask: (cur.mask >> shift) & ones(f.bits) };
}

const FRAG: Readonly<Record<string, [bigint, bigint]>> = {
  no: [0n, 1n], yes: [1n, 1n], first: [1n, 3n], later: [3n, 3n], not_later: [0n, 2n],
};

/** mf_parse: a field's text value (and optional mask) as value/mask over the field's bits. */
export function parseFieldValue(f: TextField, s: string): SlotValue {
  const all = ones(f.bits);
  switch (f.format) {
    case 'eth': {
      const [v, m, ...rest] = s.split('/');
      const value = parseEth(v);
      if (value === undefined || rest.length) fail(`${s}: invalid Ethernet address`);
      if (m === undefined) return { value, mask: all };
      const mask = parseEth(m);
      if (mask === undefined) fail(`${s}: invalid Ethernet address`);
      return { value: value & mask, mask };
    }
    case 'ipv4': {
      const [v, m, ...rest] = s.split('/');
      const value = parseIpv4(v);
      if (value === undefined || rest.length) fail(`${s}: invalid IP address`);
      if (m === undefined) return { value, mask: all };
      let mask = parseIpv4(m);
      if (mask === undefined) {
        if (!/^\d+$/.test(m)) fail(`${s}: invalid IP address`);
        const n = Number(m);
        if (n > 32) fail(`${s}: network prefix bits not between 0 and 32`);
        mask = prefixMask(n, 32);
      }
      return { value: value & mask, mask };
    }
    case 'ipv6': {
      const [v, m, ...rest] = s.split('/');
      const value = parseIpv6(v);
      if (value === undefined || rest.length) fail(`${s}: invalid IPv6 address`);
      if (m === undefined) return { value, mask: all };
      let mask = parseIpv6(m);
      if (mask === undefined) {
        if (!/^\d+$/.test(m)) fail(`${s}: invalid IPv6 address`);
        const n = Number(m);
        if (n > 128) fail(`${s}: IPv6 network prefix bits not between 0 and 128, inclusive`);
        mask = prefixMask(n, 128);
      }
      return { value: value & mask, mask };
    }
    case 'port16':
    case 'port32': {
      const p = parsePort(s);
      if (p === undefined) fail(`${s}: invalid or unknown port for ${f.name}`);
      return { value: BigInt(p), mask: all };
    }
    case 'frag': {
      const hit = FRAG[s];
      if (!hit) fail(`${s}: unknown fragment type (valid types are "no", "yes", "first", "later", "not_later"`);
      return { value: hit[0], mask: hit[1] };
    }
    case 'tcp_flags':
    case 'ct_state':
    case 'tun_flags':
      return parseFlags(f, s);
    default: {
      // ovs-ofctl takes an empty value as a zero mask: no match at all, or for tun_metadata the option's presence.
      if (s === '') return { value: 0n, mask: 0n };
      const [v, m, ...rest] = s.split('/');
      const value = parseInteger(v);
      if (value === undefined) fail(`${s}: bad syntax for ${f.name} value`);
      if (value >= 1n << BigInt(8 * fieldBytes(f))) fail(`${v}: value too large for ${fieldBytes(f)}-byte field ${f.name}`);
      if (rest.length) fail(`${s}: bad syntax for ${f.name} mask`);
      if (m === undefined) return { value, mask: all };
      const mask = parseInteger(m);
      if (mask === undefined) fail(`${s}: bad syntax for ${f.name} mask`);
      if (isTunMetadata(f) && mask > all) fail(`${s}: mask too large for ${fieldBytes(f)}-byte field ${f.name}`);
      if (!f.maskable && (mask & all) !== all) fail(`${s}: invalid mask for field ${f.name}`);
      return { value: value & mask, mask };
    }
  }
}

/** One `name=value` of the match syntax; false if `name` is not a field. */
export function parseMatchField(slots: FlowSlots, name: string, value: string): boolean {
  const f = textField(name);
  if (!f) return false;
  const v = parseFieldValue(f, value);
  setField(slots, f, v.value, v.mask);
  return true;
}

// ---------------------------------------------------------------- normalization

const ETH = { IP: 0x0800n, IPV6: 0x86ddn, ARP: 0x0806n, RARP: 0x8035n, MPLS: 0x8847n, MPLSM: 0x8848n, NSH: 0x894fn } as const;

function exact(slots: FlowSlots, slot: string): bigint | undefined {
  const s = slots.get(slot);
  return s && s.mask === ones(SLOT_BITS[slot]) ? s.value : undefined;
}

/** Drops what a switch drops when it encodes a match whose prerequisites are not met (OVS's normalization). */
export function normalizeSlots(src: FlowSlots): FlowSlots {
  const slots: FlowSlots = new Map(src);
  const dlType = exact(slots, 'dl_type');
  const isIp = dlType === ETH.IP || dlType === ETH.IPV6;
  const isArp = dlType === ETH.ARP || dlType === ETH.RARP;
  const proto = isIp ? exact(slots, 'nw_proto') : undefined;
  const drop = (...names: string[]) => names.forEach((n) => slots.delete(n));
  if (dlType !== ETH.IP && !isArp) drop('nw_src', 'nw_dst');
  if (dlType !== ETH.IPV6) drop('ipv6_src', 'ipv6_dst', 'ipv6_label');
  if (!isIp) drop('nw_tos', 'nw_ttl', 'nw_frag');
  if (!isIp && !isArp) drop('nw_proto');
  const icmp6 = dlType === ETH.IPV6 && proto === 58n;
  const ndType = icmp6 ? exact(slots, 'tp_src') : undefined;
  const nd = ndType === 135n || ndType === 136n;
  if (!isArp) {
    if (!nd) drop('arp_sha', 'arp_tha', 'nd_target');
    else if (ndType === 135n) drop('arp_tha');
    else drop('arp_sha');
  }
  if (!nd) drop('nd_reserved', 'nd_options_type');
  if (dlType !== ETH.MPLS && dlType !== ETH.MPLSM) drop('mpls_lse');
  const l4 = proto === 6n || proto === 17n || proto === 132n || (proto === 1n && dlType === ETH.IP) || (proto === 58n && dlType === ETH.IPV6);
  if (!l4) drop('tp_src', 'tp_dst');
  if (proto !== 6n) drop('tcp_flags');
  return slots;
}

// ---------------------------------------------------------------- tsw Match

/** The tsw Match (NXM-style names: vlan_tci, nw_tos) of normalized slots; exact matches carry no mask. */
export function slotsToMatch(src: FlowSlots): Match {
  const slots = normalizeSlots(src);
  const dlType = exact(slots, 'dl_type');
  const proto = exact(slots, 'nw_proto');
  const isArp = dlType === ETH.ARP || dlType === ETH.RARP;
  const out: Record<string, FieldMatch> = {};
  const put = (name: string, f: TextField) => {
    const v = getField(slots, f);
    if (!v.mask) return;
    out[name] = v.mask === ones(f.bits) ? { value: v.value } : { value: v.value, mask: v.mask };
  };
  const byName = (n: string) => textField(n) as TextField;
  const l4 = proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : undefined;
  for (const f of TEXT_FIELDS) {
    if (!f.slots.every((s) => slots.has(s) || f.slots.length > 1)) continue;
    switch (f.name) {
      case 'in_port': {
        const v = slots.get('in_port');
        if (v) out.in_port = { value: v.value >= 0xff00n ? v.value + 0xffff0000n : v.value };
        break;
      }
      case 'nw_tos': {
        const v = slots.get('nw_tos');
        if (v && v.mask & 0xfcn) out.nw_tos = { value: v.value & 0xfcn };
        break;
      }
      case 'nw_ecn': {
        const v = slots.get('nw_tos');
        if (v && v.mask & 3n) out.nw_ecn = { value: v.value & 3n };
        break;
      }
      case 'ip_src': case 'ip_dst': if (!isArp) put(f.name, f); break;
      case 'arp_spa': case 'arp_tpa': case 'arp_op': case 'arp_sha': case 'arp_tha': if (isArp) put(f.name, f); break;
      case 'nw_proto': if (!isArp) put(f.name, f); break;
      case 'tcp_src': case 'tcp_dst': if (l4 === 'tcp') put(f.name, f); break;
      case 'udp_src': case 'udp_dst': if (l4 === 'udp') put(f.name, f); break;
      case 'sctp_src': case 'sctp_dst': if (l4 === 'sctp') put(f.name, f); break;
      case 'icmp_type': case 'icmp_code': if (proto === 1n && dlType === ETH.IP) put(f.name, f); break;
      case 'icmpv6_type': case 'icmpv6_code': if (proto === 58n && dlType === ETH.IPV6) put(f.name, f); break;
      case 'nd_sll': case 'nd_tll': if (!isArp) put(f.name, f); break;
      case 'mpls_label': case 'mpls_tc': case 'mpls_bos': case 'mpls_ttl': put(f.name, f); break;
      case 'eth_src': case 'eth_dst': case 'eth_type': case 'vlan_tci': case 'ipv6_src': case 'ipv6_dst': case 'ipv6_label':
      case 'nw_ttl': case 'ip_frag': case 'tcp_flags': case 'nd_target':
        put(f.name, f);
        break;
      default:
        if (isTunMetadata(f)) {
          const v = slots.get(f.name);
          if (v) out[f.name] = v.mask === ones(f.bits) ? { value: v.value } : { value: v.value, mask: v.mask };
        } else if (f.slots.length === 1 && f.slots[0] === f.name) {
          put(f.name, f);
        }
    }
  }
  void byName;
  return out;
}

/** Slots of a tsw Match (as decoded from the wire), for printing. */
export function matchToSlots(m: Match): FlowSlots {
  const slots: FlowSlots = new Map();
  for (const [name, fm] of Object.entries(m)) {
    const f = textField(name);
    if (!f) continue;
    let value = fm.value;
    if (name === 'in_port' && value >= 0xffffff00n) value -= 0xffff0000n;
    const mask = fm.mask ?? ones(f.bits);
    if (isTunMetadata(f)) slots.set(name, { value: value & mask, mask });
    else if (name === 'nw_tos') setField(slots, f, value, 0xfcn);
    else setField(slots, f, value & mask, mask);
  }
  return slots;
}

// ---------------------------------------------------------------- printing (match_format)

export const OFP_DEFAULT_PRIORITY = 0x8000;

/** The match as ovs-ofctl prints it, `priority=N,` first when not the default; no trailing comma. */
export function formatMatch(slots: FlowSlots, priority = OFP_DEFAULT_PRIORITY): string {
  const parts: string[] = [];
  const get = (s: string) => slots.get(s);
  const u32m = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(`${name}=${altHex(v.value)}` + (v.mask !== 0xffffffffn ? `/${altHex(v.mask)}` : ''));
  };
  const widthMasked = (name: string, slot: string, bits: number) => {
    const v = get(slot);
    if (!v) return;
    parts.push(v.mask === ones(bits) ? `${name}=${v.value}` : `${name}=${hex(v.value)}/${hex(v.mask)}`);
  };
  const be32m = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(v.mask === 0xffffffffn ? `${name}=${v.value}` : `${name}=0x${v.value.toString(16).padStart(8, '0')}/0x${v.mask.toString(16).padStart(8, '0')}`);
  };
  const be64m = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(`${name}=${altHex(v.value)}` + (v.mask !== ones(64) ? `/${altHex(v.mask)}` : ''));
  };
  const ip = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(`${name}=${formatIpMasked(v.value, v.mask)}`);
  };
  const ip6 = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(`${name}=${formatIpv6Masked(v.value, v.mask)}`);
  };
  const eth = (name: string, slot: string) => {
    const v = get(slot);
    if (!v) return;
    parts.push(`${name}=${formatEth(v.value)}` + (v.mask !== ones(48) ? `/${formatEth(v.mask)}` : ''));
  };

  if (priority !== OFP_DEFAULT_PRIORITY) parts.push(`priority=${priority}`);
  u32m('pkt_mark', 'pkt_mark');
  u32m('recirc_id', 'recirc_id');
  u32m('dp_hash', 'dp_hash');
  const conj = get('conj_id');
  if (conj) parts.push(`conj_id=${conj.value}`);
  const skb = get('skb_priority');
  if (skb) parts.push(`skb_priority=${altHex(skb.value)}`);
  const actset = get('actset_output');
  if (actset) parts.push(`actset_output=${formatPort(Number(actset.value))}`);
  const ct = get('ct_state');
  if (ct) {
    if (ct.mask === 0xffn) parts.push(`ct_state=${ct.value ? formatFlags(CT_STATE_NAMES, ct.value, '|') : '0'}`);
    else parts.push(`ct_state=${formatFlagsMasked(CT_STATE_NAMES, ct.value, ct.mask)}`);
  }
  widthMasked('ct_zone', 'ct_zone', 16);
  u32m('ct_mark', 'ct_mark');
  const label = get('ct_label');
  if (label) parts.push(`ct_label=${hex(label.value)}` + (label.mask !== ones(128) ? `/${hex(label.mask)}` : ''));
  ip('ct_nw_src', 'ct_nw_src');
  ip6('ct_ipv6_src', 'ct_ipv6_src');
  ip('ct_nw_dst', 'ct_nw_dst');
  ip6('ct_ipv6_dst', 'ct_ipv6_dst');
  const ctProto = get('ct_nw_proto');
  if (ctProto) {
    parts.push(`ct_nw_proto=${ctProto.value}`);
    widthMasked('ct_tp_src', 'ct_tp_src', 16);
    widthMasked('ct_tp_dst', 'ct_tp_dst', 16);
  }

  const dl = get('dl_type');
  const dlType = dl?.value;
  const proto = get('nw_proto');
  let skipType = false;
  let skipProto = false;
  if (dl) {
    skipType = true;
    const p = proto?.value;
    const pick = (names: Record<string, string>, fallback: string) => {
      const n = proto && p !== undefined ? names[String(p)] : undefined;
      if (n) skipProto = true;
      parts.push(n ?? fallback);
    };
    if (dlType === ETH.IP) pick({ 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' }, 'ip');
    else if (dlType === ETH.IPV6) pick({ 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' }, 'ipv6');
    else if (dlType === ETH.ARP) parts.push('arp');
    else if (dlType === ETH.RARP) parts.push('rarp');
    else if (dlType === ETH.MPLS) parts.push('mpls');
    else if (dlType === ETH.MPLSM) parts.push('mplsm');
    else skipType = false;
  }
  for (let i = 0; i < 16; i++) u32m(`reg${i}`, `reg${i}`);

  be64m('tun_id', 'tun_id');
  ip('tun_src', 'tun_src');
  ip('tun_dst', 'tun_dst');
  ip6('tun_ipv6_src', 'tun_ipv6_src');
  ip6('tun_ipv6_dst', 'tun_ipv6_dst');
  widthMasked('tun_gbp_id', 'tun_gbp_id', 16);
  const gbpFlags = get('tun_gbp_flags');
  if (gbpFlags) parts.push(`tun_gbp_flags=${altHex(gbpFlags.value)}`);
  // ERSPAN: the index shows only with version 1, direction and hardware id only with version 2 (OVS's format_flow_tunnel).
  const erspanVer = get('tun_erspan_ver');
  const ver = erspanVer?.value;
  if (erspanVer) parts.push(`tun_erspan_ver=${ver}`);
  const erspanIdx = get('tun_erspan_idx');
  if (erspanIdx && ver === 1n) parts.push(`tun_erspan_idx=${altHex(erspanIdx.value)}`);
  const erspanDir = get('tun_erspan_dir');
  if (erspanDir && ver === 2n) parts.push(`tun_erspan_dir=${erspanDir.value}`);
  const erspanHwid = get('tun_erspan_hwid');
  if (erspanHwid && ver === 2n) parts.push(`tun_erspan_hwid=${altHex(erspanHwid.value)}`);
  // OVS prints the GTP-U fields without their "tun_" prefix and without a mask.
  const gtpuFlags = get('tun_gtpu_flags');
  if (gtpuFlags) parts.push(`gtpu_flags=${altHex(gtpuFlags.value)}`);
  const gtpuType = get('tun_gtpu_msgtype');
  if (gtpuType) parts.push(`gtpu_msgtype=${gtpuType.value}`);
  const tunFlags = get('tun_flags');
  if (tunFlags && tunFlags.mask & 1n) parts.push(`tun_flags=${formatFlagsMasked(['oam'], tunFlags.value & 1n, tunFlags.mask & 1n)}`);
  for (let i = 0; i < 64; i++) {
    const md = get(`tun_metadata${i}`);
    if (md) parts.push(formatTunMetadata(i, md));
  }
  be64m('metadata', 'metadata');
  const inPort = get('in_port');
  if (inPort) parts.push(`in_port=${formatPort(Number(inPort.value))}`);

  const tci = get('vlan_tci');
  if (tci) {
    const vidMask = tci.mask & 0x0fffn;
    const pcpMask = tci.mask & 0xe000n;
    const cfi = tci.mask & 0x1000n;
    if (cfi && tci.value & 0x1000n && (!vidMask || vidMask === 0x0fffn) && (!pcpMask || pcpMask === 0xe000n) && (vidMask || pcpMask)) {
      if (vidMask) parts.push(`dl_vlan=${tci.value & 0x0fffn}`);
      if (pcpMask) parts.push(`dl_vlan_pcp=${(tci.value >> 13n) & 7n}`);
    } else if (tci.mask === 0xffffn) {
      parts.push(`vlan_tci=0x${tci.value.toString(16).padStart(4, '0')}`);
    } else {
      parts.push(`vlan_tci=0x${tci.value.toString(16).padStart(4, '0')}/0x${tci.mask.toString(16).padStart(4, '0')}`);
    }
  }
  eth('dl_src', 'dl_src');
  eth('dl_dst', 'dl_dst');
  if (!skipType && dl) parts.push(`dl_type=0x${dl.value.toString(16).padStart(4, '0')}`);
  const isArp = dlType === ETH.ARP || dlType === ETH.RARP;
  if (dlType === ETH.IPV6) {
    ip6('ipv6_src', 'ipv6_src');
    ip6('ipv6_dst', 'ipv6_dst');
    const lbl = get('ipv6_label');
    if (lbl) {
      const v = `0x${lbl.value.toString(16).padStart(5, '0')}`;
      parts.push(lbl.mask === 0xfffffn ? `ipv6_label=${v}` : `ipv6_label=${v}/0x${lbl.mask.toString(16).padStart(5, '0')}`);
    }
  } else if (isArp) {
    ip('arp_spa', 'nw_src');
    ip('arp_tpa', 'nw_dst');
  } else if (dlType === ETH.NSH) {
    formatNsh(slots, parts);
  } else {
    ip('nw_src', 'nw_src');
    ip('nw_dst', 'nw_dst');
  }
  if (!skipProto && proto) parts.push(`${isArp ? 'arp_op' : 'nw_proto'}=${proto.value}`);
  if (isArp) {
    eth('arp_sha', 'arp_sha');
    eth('arp_tha', 'arp_tha');
  }
  const tos = get('nw_tos');
  if (tos && tos.mask & 0xfcn) parts.push(`nw_tos=${tos.value & 0xfcn}`);
  if (tos && tos.mask & 3n) parts.push(`nw_ecn=${tos.value & 3n}`);
  const ttl = get('nw_ttl');
  if (ttl) parts.push(`nw_ttl=${ttl.value}`);
  const lse = get('mpls_lse');
  if (lse) {
    if (lse.mask & 0xfffff000n) parts.push(`mpls_label=${lse.value >> 12n}`);
    if (lse.mask & 0xe00n) parts.push(`mpls_tc=${(lse.value >> 9n) & 7n}`);
    if (lse.mask & 0xffn) parts.push(`mpls_ttl=${lse.value & 0xffn}`);
    if (lse.mask & 0x100n) parts.push(`mpls_bos=${(lse.value >> 8n) & 1n}`);
  }
  const frag = get('nw_frag');
  if (frag) {
    const fv = frag.value;
    const name = { 3: fv & 1n ? (fv & 2n ? 'later' : 'first') : fv & 2n ? '<error>' : 'no', 1: fv & 1n ? 'yes' : 'no', 2: fv & 2n ? 'later' : 'not_later' }[Number(frag.mask & 3n)];
    if (name) parts.push(`nw_frag=${name}`);
  }
  const p = proto?.value;
  if (dlType === ETH.IP && p === 1n) {
    widthMasked('icmp_type', 'tp_src', 16);
    widthMasked('icmp_code', 'tp_dst', 16);
  } else if (dlType === ETH.IPV6 && p === 58n) {
    widthMasked('icmp_type', 'tp_src', 16);
    widthMasked('icmp_code', 'tp_dst', 16);
    ip6('nd_target', 'nd_target');
    eth('nd_sll', 'arp_sha');
    eth('nd_tll', 'arp_tha');
    be32m('nd_reserved', 'nd_reserved');
    const optType = get('nd_options_type');
    if (optType) parts.push(optType.mask === 0xffn ? `nd_options_type=${optType.value}` : `nd_options_type=${hex(optType.value)}/${hex(optType.mask)}`);
  } else {
    widthMasked('tp_src', 'tp_src', 16);
    widthMasked('tp_dst', 'tp_dst', 16);
  }
  const tcpFlags = get('tcp_flags');
  if ((dlType === ETH.IP || dlType === ETH.IPV6) && p === 6n && tcpFlags) {
    const m = tcpFlags.mask & 0xfffn;
    parts.push(`tcp_flags=${m === 0xfffn ? formatFlags(TCP_FLAG_NAMES, tcpFlags.value, '|') || '0' : formatFlagsMasked(TCP_FLAG_NAMES, tcpFlags.value, m)}`);
  }
  return parts.join(',');
}

/**
 * tun_metadataN as ovs-ofctl prints a match it parsed or received (tun_metadata_match_format): value and mask
 * cut to the fewest bytes holding them; a mask of all ones over those bytes is not shown, and a zero mask
 * (the option need only be present) shows the bare name.
 */
function formatTunMetadata(i: number, v: SlotValue): string {
  const masked = v.mask !== ones(992);
  const bytes = (x: bigint) => (x === 0n ? 0 : Math.ceil(x.toString(16).length / 2));
  const n = Math.max(bytes(v.value), masked ? bytes(v.mask) : 0);
  const mask = v.mask & ones(8 * n);
  if (masked && mask === 0n) return `tun_metadata${i}`;
  const hx = (x: bigint) => (x === 0n ? '0' : `0x${x.toString(16)}`);
  return `tun_metadata${i}=${hx(v.value)}` + (masked && mask !== ones(8 * n) ? `/${hx(mask)}` : '');
}

/** The NSH fields as OVS's format_nsh_masked prints them: context words only for an exact MD type 1. */
function formatNsh(slots: FlowSlots, parts: string[]): void {
  const u8m = (name: string) => {
    const v = slots.get(name);
    if (!v) return;
    parts.push(v.mask === 0xffn ? `${name}=${v.value}` : `${name}=0x${v.value.toString(16).padStart(2, '0')}/0x${v.mask.toString(16).padStart(2, '0')}`);
  };
  const hex32m = (name: string, full: bigint) => {
    const v = slots.get(name);
    if (!v) return;
    parts.push(v.mask === full ? `${name}=0x${v.value.toString(16)}` : `${name}=0x${v.value.toString(16)}/0x${v.mask.toString(16)}`);
  };
  u8m('nsh_flags');
  u8m('nsh_ttl');
  u8m('nsh_mdtype');
  u8m('nsh_np');
  hex32m('nsh_spi', 0xffffffn);
  u8m('nsh_si');
  const md = slots.get('nsh_mdtype');
  if (md && md.mask === 0xffn && md.value === 1n) for (let i = 1; i <= 4; i++) hex32m(`nsh_c${i}`, 0xffffffffn);
}

export function formatIpMasked(value: bigint, mask: bigint): string {
  if (mask === 0xffffffffn) return formatIpv4(value);
  const n = prefixLen(mask, 32);
  return `${formatIpv4(value)}/${n !== undefined ? n : formatIpv4(mask)}`;
}

export function formatIpv6Masked(value: bigint, mask: bigint): string {
  if (mask === ones(128)) return formatIpv6(value);
  const n = prefixLen(mask, 128);
  return `${formatIpv6(value)}/${n !== undefined ? n : formatIpv6(mask)}`;
}

// The checks a switch makes on decoded actions before it takes a flow or a
// packet-out: OVS's ofpacts_check_consistency (actions that need what the
// match does not guarantee) and its decoder's refusal to write read-only
// fields.

import { OfError } from '../errors.js';
import { READ_ONLY_FIELDS } from '../fields.js';
import type { Match } from '../match.js';
import type { TextAction } from './actions.js';

const SET_FIELD_NEEDS: Readonly<Record<string, (dl: bigint | undefined, proto: bigint | undefined) => boolean>> = (() => {
  const ip4 = (dl: bigint | undefined) => dl === 0x0800n;
  const ip6 = (dl: bigint | undefined) => dl === 0x86ddn;
  const ipAny = (dl: bigint | undefined) => ip4(dl) || ip6(dl);
  const l4 = (p: bigint) => (dl: bigint | undefined, proto: bigint | undefined) => ipAny(dl) && proto === p;
  const arp = (dl: bigint | undefined) => dl === 0x0806n || dl === 0x8035n;
  return {
    ip_src: ip4, ip_dst: ip4, nw_tos: ipAny, ip_dscp: ipAny, nw_ecn: ipAny, nw_ttl: ipAny,
    ipv6_src: ip6, ipv6_dst: ip6, ipv6_label: ip6,
    tcp_src: l4(6n), tcp_dst: l4(6n), udp_src: l4(17n), udp_dst: l4(17n), sctp_src: l4(132n), sctp_dst: l4(132n),
    arp_op: arp, arp_spa: arp, arp_tpa: arp, arp_sha: arp, arp_tha: arp,
    icmp_type: (dl, p) => ip4(dl) && p === 1n, icmp_code: (dl, p) => ip4(dl) && p === 1n,
    icmpv6_type: (dl, p) => ip6(dl) && p === 58n, icmpv6_code: (dl, p) => ip6(dl) && p === 58n,
    mpls_label: (dl) => dl === 0x8847n || dl === 0x8848n, mpls_tc: (dl) => dl === 0x8847n || dl === 0x8848n,
    ...Object.fromEntries(['nsh_flags', 'nsh_ttl', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4'].map((n) => [n, (dl: bigint | undefined) => dl === 0x894fn])),
  };
})();

interface FlowState { dl?: bigint; proto?: bigint; vlan: boolean }

/**
 * OVS's ofpacts_check_consistency for a decoded FLOW_MOD or PACKET_OUT:
 * actions that need what the match does not guarantee. OF1.0 (and NXM)
 * tolerates the mismatches OVS calls "inconsistent", later versions do not;
 * set_field without its prerequisites is wrong everywhere.
 */
export function checkConsistency(list: readonly TextAction[], match: Match, version: number): void {
  const tci = match.vlan_tci;
  const vid = match.vlan_vid;
  const state: FlowState = {
    dl: match.eth_type?.value,
    proto: match.nw_proto?.value,
    vlan: !!(tci && tci.value & 0x1000n) || !!(vid && vid.value & 0x1000n) || match.vlan_pcp !== undefined,
  };
  checkList(list, state, version);
}

function checkList(list: readonly TextAction[], st: FlowState, version: number): void {
  const bad = () => new OfError('OFPBAC_MATCH_INCONSISTENT', 'actions need fields the match does not have');
  const inconsistent = () => { if (version > 1) throw bad(); };
  const ipAny = () => st.dl === 0x0800n || st.dl === 0x86ddn;
  for (const a of list) {
    switch (a.type) {
      case 'mod_nw_src': case 'mod_nw_dst': if (st.dl !== 0x0800n) inconsistent(); break;
      case 'mod_nw_tos': case 'mod_nw_ecn': case 'mod_nw_ttl': case 'dec_ttl': if (!ipAny()) inconsistent(); break;
      case 'mod_tp_src': case 'mod_tp_dst':
        if (!ipAny() || !(st.proto === 6n || st.proto === 17n || st.proto === 132n)) inconsistent();
        break;
      case 'strip_vlan': if (!st.vlan) inconsistent(); st.vlan = false; break;
      case 'push_vlan': st.vlan = true; break;
      case 'push_mpls': st.dl = BigInt(a.ethertype); break;
      case 'pop_mpls': st.dl = BigInt(a.ethertype); break;
      case 'set_field': {
        if (a.load) break;
        const name = a.field.name;
        const ok = name === 'vlan_vid' || name === 'vlan_pcp' ? st.vlan : (SET_FIELD_NEEDS[name]?.(st.dl, st.proto) ?? true);
        if (!ok) throw bad();
        break;
      }
      case 'write_actions': case 'clone': checkList(a.actions, { ...st }, version); break;
      default: break;
    }
  }
}

/** As OVS's action decoder: set_field, load and move may not write a read-only field (OFPBAC_BAD_SET_ARGUMENT). */
export function checkSetDestinations(list: readonly TextAction[]): void {
  for (const a of list) {
    const dst = a.type === 'set_field' ? a.field : a.type === 'move' ? a.dst.field : undefined;
    if (dst && (READ_ONLY_FIELDS.has(dst.name) || READ_ONLY_FIELDS.has(dst.tsw ?? ''))) {
      throw new OfError('OFPBAC_BAD_SET_ARGUMENT', `destination field ${dst.name} is not writable`);
    }
    if (a.type === 'write_actions' || a.type === 'clone') checkSetDestinations(a.actions);
  }
}

// The lookup stage of each flow-key word, as OVS's classifier splits struct
// flow into segments: metadata, then L2, then L3, then L4. A classifier
// lookup that finds no rule agreeing with a packet's L2 fields need not look
// at (and so un-wildcard) its L3 and L4 fields.

import { FLOW_FIELDS, FLOW_WORDS } from './key.js';

const L2 = new Set(['eth_src', 'eth_dst', 'eth_type', 'vlan_tci', 'mpls_label', 'mpls_tc', 'mpls_bos', 'mpls_ttl', 'mpls_lse1', 'mpls_lse2']);
const L3 = new Set(['ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_label', 'nw_proto', 'ip_tos', 'nw_ttl', 'ip_frag',
  'arp_op', 'arp_spa', 'arp_tpa', 'arp_sha', 'arp_tha', 'nd_target', 'nd_sll', 'nd_tll', 'nd_reserved', 'nd_options_type',
  'tcp_flags', 'nsh_flags', 'nsh_ttl', 'nsh_mdtype', 'nsh_np', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4']);
const L4 = new Set(['tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmp_type', 'icmp_code', 'icmpv6_type', 'icmpv6_code']);

/** Stage per key word: 0 metadata (ports, registers, tunnel, conntrack), 1 L2, 2 L3, 3 L4. */
export const FLOW_STAGES: Uint8Array = (() => {
  const out = new Uint8Array(FLOW_WORDS);
  for (const f of FLOW_FIELDS.values()) {
    if (f.of !== undefined) continue;   // a view: its field says
    const stage = L4.has(f.name) ? 3 : L3.has(f.name) ? 2 : L2.has(f.name) ? 1 : 0;
    for (let w = f.word; w < f.word + f.words; w++) out[w] = stage;
  }
  return out;
})();

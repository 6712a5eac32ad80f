// A flow key as OVS prints a packet's flow (ofproto/trace "Flow:" lines):
// every field the packet has, exact, in the match syntax, with pipeline
// metadata (registers, metadata, marks, tunnel id) shown only when set.

import { formatWireMatch, type Match } from '../openflow/index.js';
import { getField } from './key.js';

const L4: Readonly<Record<number, readonly string[]>> = {
  6: ['tcp_src', 'tcp_dst', 'tcp_flags'], 17: ['udp_src', 'udp_dst'], 132: ['sctp_src', 'sctp_dst'],
};

const METADATA = ['tun_id', 'metadata', 'pkt_mark', ...Array.from({ length: 16 }, (_, i) => `reg${i}`)];

/** The Match with exactly the fields the key's packet has (what OVS's trace prints). */
export function flowMatch(key: Uint32Array): Match {
  const m: Record<string, { value: bigint }> = {};
  const put = (name: string): void => { m[name] = { value: getField(key, name) }; };
  for (const n of METADATA) if (getField(key, n) !== 0n) put(n);
  put('in_port');
  put('vlan_tci');
  put('eth_src');
  put('eth_dst');
  put('eth_type');
  const type = Number(getField(key, 'eth_type'));
  if (type === 0x0800 || type === 0x86dd) {
    const v6 = type === 0x86dd;
    for (const n of v6 ? ['ipv6_src', 'ipv6_dst', 'ipv6_label'] : ['ip_src', 'ip_dst']) put(n);
    for (const n of ['nw_proto', 'nw_tos', 'nw_ecn', 'nw_ttl', 'ip_frag']) put(n);
    const proto = Number(getField(key, 'nw_proto'));
    const later = (Number(getField(key, 'ip_frag')) & 2) !== 0;
    if (!later) {
      for (const n of L4[proto] ?? []) put(n);
      if (proto === 1 && !v6) { put('icmp_type'); put('icmp_code'); }
      if (proto === 58 && v6) {
        put('icmpv6_type');
        put('icmpv6_code');
        const t = Number(getField(key, 'icmpv6_type'));
        if (t === 135 || t === 136) { put('nd_target'); put('nd_sll'); put('nd_tll'); }
      }
    }
  } else if (type === 0x0806 || type === 0x8035) {
    for (const n of ['arp_spa', 'arp_tpa', 'arp_op', 'arp_sha', 'arp_tha']) put(n);
  } else if (type === 0x8847 || type === 0x8848) {
    for (const n of ['mpls_label', 'mpls_tc', 'mpls_ttl', 'mpls_bos']) put(n);
  } else if (type === 0x894f) {
    for (const n of ['nsh_flags', 'nsh_ttl', 'nsh_mdtype', 'nsh_np', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4']) put(n);
    // OVS's flow_wildcards_init_for_packet goes on from NSH to the IP header fields (all zero here).
    for (const n of ['nw_proto', 'nw_tos', 'nw_ecn', 'nw_ttl', 'ip_frag']) put(n);
  }
  return m;
}

export function formatFlow(key: Uint32Array): string {
  return formatWireMatch(flowMatch(key), 32768);
}

// Word indices of the flow-key fields the datapath reads and writes, and
// small integer formatters shared by the ODP printers. Resolved once at load
// so the per-packet code indexes typed arrays with plain numbers.

import { fieldSlot } from '../flow/index.js';
import { formatIpv6 } from '../openflow/index.js';

const w = (name: string): number => fieldSlot(name).word;

/** Flow-key words (see src/flow/key.ts) by field, integer indices only. */
export const K = {
  ipTos: w('ip_tos'), inPort: w('in_port'), ethDst: w('eth_dst'), ethSrc: w('eth_src'), ethType: w('eth_type'),
  vlanTci: w('vlan_tci'), nwProto: w('nw_proto'), nwTtl: w('nw_ttl'), ipFrag: w('ip_frag'), ipSrc: w('ip_src'),
  ipDst: w('ip_dst'), tcpSrc: w('tcp_src'), tcpDst: w('tcp_dst'), udpSrc: w('udp_src'), udpDst: w('udp_dst'),
  sctpSrc: w('sctp_src'), sctpDst: w('sctp_dst'), icmpType: w('icmp_type'), icmpCode: w('icmp_code'),
  arpOp: w('arp_op'), arpSpa: w('arp_spa'), arpTpa: w('arp_tpa'), arpSha: w('arp_sha'), arpTha: w('arp_tha'),
  ipv6Src: w('ipv6_src'), ipv6Dst: w('ipv6_dst'), ipv6Label: w('ipv6_label'), icmpv6Type: w('icmpv6_type'),
  icmpv6Code: w('icmpv6_code'), ndTarget: w('nd_target'), ndSll: w('nd_sll'), ndTll: w('nd_tll'),
  mplsLabel: w('mpls_label'), mplsTc: w('mpls_tc'), mplsBos: w('mpls_bos'), mplsTtl: w('mpls_ttl'),
  tcpFlags: w('tcp_flags'), recircId: w('recirc_id'), dpHash: w('dp_hash'), pktMark: w('pkt_mark'),
  ctState: w('ct_state'), ctZone: w('ct_zone'), ctMark: w('ct_mark'),
  tunId: w('tun_id'), tunSrc: w('tun_src'), tunDst: w('tun_dst'),
  ndReserved: w('nd_reserved'), ndOptionsType: w('nd_options_type'), nshFlags: w('nsh_flags'), nshTtl: w('nsh_ttl'),
  nshMdtype: w('nsh_mdtype'), nshNp: w('nsh_np'), nshSpi: w('nsh_spi'), nshSi: w('nsh_si'), nshC1: w('nsh_c1'), nshC4: w('nsh_c4'),
} as const;

/**
 * Words a datapath key can differ in: everything extraction fills (in_port
 * through the TCP flags, the ND extras and the NSH header) and the tunnel
 * metadata a tnl_pop sets (tun_id, tun_src, tun_dst). The exact-match cache
 * compares these; other pipeline metadata (registers, conntrack, ERSPAN and
 * GTP-U tunnel fields, which no tsw port fills) stays zero in the datapath.
 */
export const DP_KEY_WORDS = Math.max(K.tcpFlags, K.tunId + 1, K.tunSrc, K.tunDst, K.ndReserved, K.ndOptionsType, K.nshC4, K.nshTtl) + 1;

export const hex2 = (v: number): string => v.toString(16).padStart(2, '0');

export function macText(key: Uint32Array, word: number): string {
  const hi = key[word]!;
  const lo = key[word + 1]!;
  return `${hex2(hi >>> 8)}:${hex2(hi & 0xff)}:${hex2(lo >>> 24)}:${hex2((lo >>> 16) & 0xff)}:${hex2((lo >>> 8) & 0xff)}:${hex2(lo & 0xff)}`;
}

export const ip4Text = (v: number): string => `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;

/** RFC 5952 text of the 128-bit address in words [word, word+4), as inet_ntop prints it (the codec's printer). */
export function ip6Text(key: Uint32Array, word: number): string {
  let v = 0n;
  for (let i = 0; i < 4; i++) v = (v << 32n) | BigInt(key[word + i]!);
  return formatIpv6(v);
}

/** C's `%#x`: 0 prints as "0", anything else with a 0x prefix. */
export const altHex = (v: number): string => (v === 0 ? '0' : `0x${v.toString(16)}`);

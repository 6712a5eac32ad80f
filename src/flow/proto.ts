// Protocol numbers and byte helpers shared by extraction, composing and
// rewriting (the facts of OVS's lib/packets.h).

export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_VLAN = 0x8100;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
/** Smallest Ethernet II type; below it the field is an 802.3 length. */
export const ETH_TYPE_MIN = 0x600;
/** OVS's dl_type for an 802.3 frame without a SNAP ethertype. */
export const FLOW_DL_TYPE_NONE = 0x05ff;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_DSTOPTS = 60;

export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;

/** ip_frag bits (OVS's FLOW_NW_FRAG_ANY / _LATER). */
export const FRAG_ANY = 1;
export const FRAG_LATER = 2;

export const isVlanType = (t: number): boolean => t === ETH_TYPE_VLAN || t === ETH_TYPE_VLAN_8021AD;
export const isMplsType = (t: number): boolean => t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MCAST;

export function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
export function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

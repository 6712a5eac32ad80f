// The text names of match fields (meta-flow names, their aliases and NXM/OXM
// names), how each value is written, and where it lives in the flow "slots"
// that the text layer uses in place of OVS's struct flow: several names share
// one slot (tcp_src/udp_src/icmp_type are all tp_src), so the parsed match is
// independent of the order of its keywords, as in ovs-ofctl.

export type ValueFormat =
  | 'dec' | 'hex' | 'eth' | 'ipv4' | 'ipv6' | 'port16' | 'port32' | 'tcp_flags' | 'ct_state' | 'frag' | 'tun_flags' | 'packet_type';

/** A slot of the flow and its width in bits. */
export const SLOT_BITS: Readonly<Record<string, number>> = {
  pkt_mark: 32, recirc_id: 32, dp_hash: 32, conj_id: 32, actset_output: 32, ct_state: 8, ct_zone: 16, ct_mark: 32,
  ct_label: 128, ct_nw_src: 32, ct_nw_dst: 32, ct_ipv6_src: 128, ct_ipv6_dst: 128, ct_nw_proto: 8, ct_tp_src: 16,
  ct_tp_dst: 16, packet_type: 32, tun_id: 64, tun_src: 32, tun_dst: 32, tun_ipv6_src: 128, tun_ipv6_dst: 128,
  tun_gbp_id: 16, tun_gbp_flags: 8, tun_flags: 16, metadata: 64, in_port: 16, vlan_tci: 16, dl_src: 48, dl_dst: 48,
  dl_type: 16, ipv6_src: 128, ipv6_dst: 128, ipv6_label: 32, nw_src: 32, nw_dst: 32, nw_proto: 8, arp_sha: 48,
  arp_tha: 48, nw_tos: 8, nw_ttl: 8, mpls_lse: 32, nw_frag: 8, tp_src: 16, tp_dst: 16, nd_target: 128, tcp_flags: 16,
  skb_priority: 32, nd_reserved: 32, nd_options_type: 8, tun_erspan_idx: 32, tun_erspan_ver: 8, tun_erspan_dir: 8,
  tun_erspan_hwid: 8, tun_gtpu_flags: 8, tun_gtpu_msgtype: 8, nsh_flags: 8, nsh_ttl: 8, nsh_mdtype: 8, nsh_np: 8, nsh_spi: 24,
  nsh_si: 8, nsh_c1: 32, nsh_c2: 32, nsh_c3: 32, nsh_c4: 32,
  ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`reg${i}`, 32])),
  ...Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`tun_metadata${i}`, 992])),
};

export interface TextField {
  /** meta-flow name (what set_field and the match syntax print). */
  readonly name: string;
  readonly aliases: readonly string[];
  /** NXM/OXM name used in subfield syntax (`NXM_NX_REG0[]`), when the field has one. */
  readonly nxm?: string;
  readonly oxm?: string;
  /** Slots holding the field, most significant first (xreg/xxreg span registers). */
  readonly slots: readonly string[];
  /** Bit offset of the field's lowest bit in the concatenated slots. */
  readonly shift: number;
  readonly bits: number;
  readonly format: ValueFormat;
  readonly maskable: boolean;
  /** Bits forced on with the field (the VLAN CFI bit for dl_vlan/dl_vlan_pcp). */
  readonly implied?: { readonly slot: string; readonly bits: bigint };
  /** The tsw Match (fields.ts) name, where it differs from `name`. */
  readonly tsw?: string;
}

function fld(name: string, slot: string | string[], bits: number, format: ValueFormat, maskable: boolean,
  extra: Partial<TextField> = {}): TextField {
  return { name, aliases: [], slots: Array.isArray(slot) ? slot : [slot], shift: 0, bits, format, maskable, ...extra };
}

const VLAN_CFI = 0x1000n;

export const TEXT_FIELDS: readonly TextField[] = [
  fld('dp_hash', 'dp_hash', 32, 'hex', true, { nxm: 'NXM_NX_DP_HASH' }),
  fld('recirc_id', 'recirc_id', 32, 'dec', false, { nxm: 'NXM_NX_RECIRC_ID' }),
  fld('packet_type', 'packet_type', 32, 'packet_type', false, { oxm: 'OXM_OF_PACKET_TYPE' }),
  fld('conj_id', 'conj_id', 32, 'dec', false, { nxm: 'NXM_NX_CONJ_ID' }),
  fld('tun_id', 'tun_id', 64, 'hex', true, { aliases: ['tunnel_id'], nxm: 'NXM_NX_TUN_ID', oxm: 'OXM_OF_TUNNEL_ID' }),
  fld('tun_src', 'tun_src', 32, 'ipv4', true, { nxm: 'NXM_NX_TUN_IPV4_SRC' }),
  fld('tun_dst', 'tun_dst', 32, 'ipv4', true, { nxm: 'NXM_NX_TUN_IPV4_DST' }),
  fld('tun_ipv6_src', 'tun_ipv6_src', 128, 'ipv6', true, { nxm: 'NXM_NX_TUN_IPV6_SRC' }),
  fld('tun_ipv6_dst', 'tun_ipv6_dst', 128, 'ipv6', true, { nxm: 'NXM_NX_TUN_IPV6_DST' }),
  fld('tun_flags', 'tun_flags', 1, 'tun_flags', true, { nxm: 'NXM_NX_TUN_FLAGS' }),
  fld('tun_gbp_id', 'tun_gbp_id', 16, 'dec', true, { nxm: 'NXM_NX_TUN_GBP_ID' }),
  fld('tun_gbp_flags', 'tun_gbp_flags', 8, 'hex', true, { nxm: 'NXM_NX_TUN_GBP_FLAGS' }),
  ...Array.from({ length: 64 }, (_, i) => fld(`tun_metadata${i}`, `tun_metadata${i}`, 992, 'hex', true, { nxm: `NXM_NX_TUN_METADATA${i}` })),
  // OVS keeps whole bytes/words of the ERSPAN fields (nominally 20, 4, 1 and 6 bits wide).
  fld('tun_erspan_idx', 'tun_erspan_idx', 32, 'hex', true, { nxm: 'NXOXM_ET_ERSPAN_IDX' }),
  fld('tun_erspan_ver', 'tun_erspan_ver', 8, 'dec', true, { nxm: 'NXOXM_ET_ERSPAN_VER' }),
  fld('tun_erspan_dir', 'tun_erspan_dir', 8, 'dec', true, { nxm: 'NXOXM_ET_ERSPAN_DIR' }),
  fld('tun_erspan_hwid', 'tun_erspan_hwid', 8, 'hex', true, { nxm: 'NXOXM_ET_ERSPAN_HWID' }),
  fld('tun_gtpu_flags', 'tun_gtpu_flags', 8, 'hex', true, { nxm: 'NXOXM_ET_GTPU_FLAGS' }),
  fld('tun_gtpu_msgtype', 'tun_gtpu_msgtype', 8, 'dec', true, { nxm: 'NXOXM_ET_GTPU_MSGTYPE' }),
  fld('metadata', 'metadata', 64, 'hex', true, { oxm: 'OXM_OF_METADATA' }),
  fld('in_port', 'in_port', 16, 'port16', false, { nxm: 'NXM_OF_IN_PORT' }),
  fld('in_port_oxm', 'in_port', 16, 'port32', false, { oxm: 'OXM_OF_IN_PORT', tsw: 'in_port' }),
  fld('actset_output', 'actset_output', 32, 'port32', false, { oxm: 'ONFOXM_ET_ACTSET_OUTPUT' }),
  fld('skb_priority', 'skb_priority', 32, 'hex', false),
  fld('pkt_mark', 'pkt_mark', 32, 'hex', true, { nxm: 'NXM_NX_PKT_MARK' }),
  fld('ct_state', 'ct_state', 8, 'ct_state', true, { nxm: 'NXM_NX_CT_STATE' }),
  fld('ct_zone', 'ct_zone', 16, 'hex', false, { nxm: 'NXM_NX_CT_ZONE' }),
  fld('ct_mark', 'ct_mark', 32, 'hex', true, { nxm: 'NXM_NX_CT_MARK' }),
  fld('ct_label', 'ct_label', 128, 'hex', true, { nxm: 'NXM_NX_CT_LABEL' }),
  fld('ct_nw_proto', 'ct_nw_proto', 8, 'dec', false, { nxm: 'NXM_NX_CT_NW_PROTO' }),
  fld('ct_nw_src', 'ct_nw_src', 32, 'ipv4', true, { nxm: 'NXM_NX_CT_NW_SRC' }),
  fld('ct_nw_dst', 'ct_nw_dst', 32, 'ipv4', true, { nxm: 'NXM_NX_CT_NW_DST' }),
  fld('ct_ipv6_src', 'ct_ipv6_src', 128, 'ipv6', true, { nxm: 'NXM_NX_CT_IPV6_SRC' }),
  fld('ct_ipv6_dst', 'ct_ipv6_dst', 128, 'ipv6', true, { nxm: 'NXM_NX_CT_IPV6_DST' }),
  fld('ct_tp_src', 'ct_tp_src', 16, 'dec', true, { nxm: 'NXM_NX_CT_TP_SRC' }),
  fld('ct_tp_dst', 'ct_tp_dst', 16, 'dec', true, { nxm: 'NXM_NX_CT_TP_DST' }),
  ...Array.from({ length: 16 }, (_, i) => fld(`reg${i}`, `reg${i}`, 32, 'hex', true, { nxm: `NXM_NX_REG${i}` })),
  ...Array.from({ length: 8 }, (_, i) => fld(`xreg${i}`, [`reg${2 * i}`, `reg${2 * i + 1}`], 64, 'hex', true, { oxm: `OXM_OF_PKT_REG${i}` })),
  ...Array.from({ length: 4 }, (_, i) => fld(`xxreg${i}`, [0, 1, 2, 3].map((k) => `reg${4 * i + k}`), 128, 'hex', true, { nxm: `NXM_NX_XXREG${i}` })),
  fld('eth_src', 'dl_src', 48, 'eth', true, { aliases: ['dl_src'], nxm: 'NXM_OF_ETH_SRC', oxm: 'OXM_OF_ETH_SRC' }),
  fld('eth_dst', 'dl_dst', 48, 'eth', true, { aliases: ['dl_dst'], nxm: 'NXM_OF_ETH_DST', oxm: 'OXM_OF_ETH_DST' }),
  fld('eth_type', 'dl_type', 16, 'hex', false, { aliases: ['dl_type'], nxm: 'NXM_OF_ETH_TYPE', oxm: 'OXM_OF_ETH_TYPE' }),
  fld('vlan_tci', 'vlan_tci', 16, 'hex', true, { nxm: 'NXM_OF_VLAN_TCI' }),
  fld('dl_vlan', 'vlan_tci', 12, 'dec', false, { implied: { slot: 'vlan_tci', bits: VLAN_CFI } }),
  fld('vlan_vid', 'vlan_tci', 13, 'dec', true, { oxm: 'OXM_OF_VLAN_VID' }),
  fld('dl_vlan_pcp', 'vlan_tci', 3, 'dec', false, { shift: 13, implied: { slot: 'vlan_tci', bits: VLAN_CFI } }),
  fld('vlan_pcp', 'vlan_tci', 3, 'dec', false, { shift: 13, oxm: 'OXM_OF_VLAN_PCP', implied: { slot: 'vlan_tci', bits: VLAN_CFI } }),
  fld('mpls_label', 'mpls_lse', 20, 'dec', false, { shift: 12, oxm: 'OXM_OF_MPLS_LABEL' }),
  fld('mpls_tc', 'mpls_lse', 3, 'dec', false, { shift: 9, oxm: 'OXM_OF_MPLS_TC' }),
  fld('mpls_bos', 'mpls_lse', 1, 'dec', false, { shift: 8, oxm: 'OXM_OF_MPLS_BOS' }),
  fld('mpls_ttl', 'mpls_lse', 8, 'dec', false, { nxm: 'NXM_NX_MPLS_TTL' }),
  fld('ip_src', 'nw_src', 32, 'ipv4', true, { aliases: ['nw_src'], nxm: 'NXM_OF_IP_SRC', oxm: 'OXM_OF_IPV4_SRC' }),
  fld('ip_dst', 'nw_dst', 32, 'ipv4', true, { aliases: ['nw_dst'], nxm: 'NXM_OF_IP_DST', oxm: 'OXM_OF_IPV4_DST' }),
  fld('ipv6_src', 'ipv6_src', 128, 'ipv6', true, { nxm: 'NXM_NX_IPV6_SRC', oxm: 'OXM_OF_IPV6_SRC' }),
  fld('ipv6_dst', 'ipv6_dst', 128, 'ipv6', true, { nxm: 'NXM_NX_IPV6_DST', oxm: 'OXM_OF_IPV6_DST' }),
  fld('ipv6_label', 'ipv6_label', 20, 'hex', true, { nxm: 'NXM_NX_IPV6_LABEL', oxm: 'OXM_OF_IPV6_FLABEL' }),
  fld('nw_proto', 'nw_proto', 8, 'dec', false, { aliases: ['ip_proto'], nxm: 'NXM_OF_IP_PROTO', oxm: 'OXM_OF_IP_PROTO' }),
  fld('nw_tos', 'nw_tos', 8, 'dec', false, { nxm: 'NXM_OF_IP_TOS' }),
  fld('ip_dscp', 'nw_tos', 6, 'dec', false, { shift: 2, oxm: 'OXM_OF_IP_DSCP' }),
  fld('nw_ecn', 'nw_tos', 2, 'dec', false, { aliases: ['ip_ecn'], nxm: 'NXM_NX_IP_ECN', oxm: 'OXM_OF_IP_ECN' }),
  fld('nw_ttl', 'nw_ttl', 8, 'dec', false, { nxm: 'NXM_NX_IP_TTL' }),
  fld('ip_frag', 'nw_frag', 2, 'frag', true, { aliases: ['nw_frag'], nxm: 'NXM_NX_IP_FRAG' }),
  fld('arp_op', 'nw_proto', 8, 'dec', false, { nxm: 'NXM_OF_ARP_OP', oxm: 'OXM_OF_ARP_OP' }),
  fld('arp_spa', 'nw_src', 32, 'ipv4', true, { nxm: 'NXM_OF_ARP_SPA', oxm: 'OXM_OF_ARP_SPA' }),
  fld('arp_tpa', 'nw_dst', 32, 'ipv4', true, { nxm: 'NXM_OF_ARP_TPA', oxm: 'OXM_OF_ARP_TPA' }),
  fld('arp_sha', 'arp_sha', 48, 'eth', true, { nxm: 'NXM_NX_ARP_SHA', oxm: 'OXM_OF_ARP_SHA' }),
  fld('arp_tha', 'arp_tha', 48, 'eth', true, { nxm: 'NXM_NX_ARP_THA', oxm: 'OXM_OF_ARP_THA' }),
  fld('tcp_src', 'tp_src', 16, 'dec', true, { aliases: ['tp_src'], nxm: 'NXM_OF_TCP_SRC', oxm: 'OXM_OF_TCP_SRC' }),
  fld('tcp_dst', 'tp_dst', 16, 'dec', true, { aliases: ['tp_dst'], nxm: 'NXM_OF_TCP_DST', oxm: 'OXM_OF_TCP_DST' }),
  fld('tcp_flags', 'tcp_flags', 12, 'tcp_flags', true, { nxm: 'NXM_NX_TCP_FLAGS', oxm: 'ONFOXM_ET_TCP_FLAGS' }),
  fld('udp_src', 'tp_src', 16, 'dec', true, { nxm: 'NXM_OF_UDP_SRC', oxm: 'OXM_OF_UDP_SRC' }),
  fld('udp_dst', 'tp_dst', 16, 'dec', true, { nxm: 'NXM_OF_UDP_DST', oxm: 'OXM_OF_UDP_DST' }),
  fld('sctp_src', 'tp_src', 16, 'dec', true, { oxm: 'OXM_OF_SCTP_SRC' }),
  fld('sctp_dst', 'tp_dst', 16, 'dec', true, { oxm: 'OXM_OF_SCTP_DST' }),
  fld('icmp_type', 'tp_src', 8, 'dec', false, { nxm: 'NXM_OF_ICMP_TYPE', oxm: 'OXM_OF_ICMPV4_TYPE' }),
  fld('icmp_code', 'tp_dst', 8, 'dec', false, { nxm: 'NXM_OF_ICMP_CODE', oxm: 'OXM_OF_ICMPV4_CODE' }),
  fld('icmpv6_type', 'tp_src', 8, 'dec', false, { nxm: 'NXM_NX_ICMPV6_TYPE', oxm: 'OXM_OF_ICMPV6_TYPE' }),
  fld('icmpv6_code', 'tp_dst', 8, 'dec', false, { nxm: 'NXM_NX_ICMPV6_CODE', oxm: 'OXM_OF_ICMPV6_CODE' }),
  // Wire order as OVS writes an ND match: reserved word, target, option type, then the addresses.
  fld('nd_reserved', 'nd_reserved', 32, 'dec', false, { nxm: 'ERICOXM_OF_ICMPV6_ND_RESERVED' }),
  fld('nd_target', 'nd_target', 128, 'ipv6', true, { nxm: 'NXM_NX_ND_TARGET', oxm: 'OXM_OF_IPV6_ND_TARGET' }),
  fld('nd_options_type', 'nd_options_type', 8, 'dec', false, { nxm: 'ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE' }),
  fld('nd_sll', 'arp_sha', 48, 'eth', true, { nxm: 'NXM_NX_ND_SLL', oxm: 'OXM_OF_IPV6_ND_SLL' }),
  fld('nd_tll', 'arp_tha', 48, 'eth', true, { nxm: 'NXM_NX_ND_TLL', oxm: 'OXM_OF_IPV6_ND_TLL' }),
  fld('nsh_flags', 'nsh_flags', 8, 'dec', true, { nxm: 'NXOXM_NSH_FLAGS' }),
  fld('nsh_ttl', 'nsh_ttl', 8, 'dec', false, { nxm: 'NXOXM_NSH_TTL' }),
  fld('nsh_mdtype', 'nsh_mdtype', 8, 'dec', false, { nxm: 'NXOXM_NSH_MDTYPE' }),
  fld('nsh_np', 'nsh_np', 8, 'dec', false, { nxm: 'NXOXM_NSH_NP' }),
  fld('nsh_spi', 'nsh_spi', 24, 'hex', false, { aliases: ['nsp'], nxm: 'NXOXM_NSH_SPI' }),
  fld('nsh_si', 'nsh_si', 8, 'dec', false, { aliases: ['nsi'], nxm: 'NXOXM_NSH_SI' }),
  ...[1, 2, 3, 4].map((i) => fld(`nsh_c${i}`, `nsh_c${i}`, 32, 'hex', true, { aliases: [`nshc${i}`], nxm: `NXOXM_NSH_C${i}` })),
];

const byName = new Map<string, TextField>();
const bySubfieldName = new Map<string, TextField>();
for (const f of TEXT_FIELDS) {
  byName.set(f.name, f);
  for (const a of f.aliases) byName.set(a, f);
  for (const n of [f.nxm, f.oxm]) if (n) bySubfieldName.set(n, f);
}

/** A field by meta-flow name or alias (the match syntax). */
export function textField(name: string): TextField | undefined {
  return byName.get(name);
}

/** A field by NXM/OXM name or meta-flow name (the subfield syntax of load/move/learn). */
export function subfieldField(name: string): TextField | undefined {
  return bySubfieldName.get(name) ?? byName.get(name);
}

/** The name the subfield syntax prints: NXM name, else OXM name, else the meta-flow name. */
export function subfieldName(f: TextField): string {
  return f.nxm ?? f.oxm ?? f.name;
}

export const TCP_FLAG_NAMES: readonly string[] = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];
export const CT_STATE_NAMES: readonly string[] = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];

// The match-field table: every field a flow can match, its width, whether it
// takes a mask, what it requires, and its OXM and NXM wire codes. Names are
// the ones ovs-ofctl uses (meta-flow), so the text syntax can share them.
// Facts from the OpenFlow 1.3-1.5 specs (OXM_OF_*) and OVS meta-flow (NXM_*).

/** What must be matched before a field makes sense (OpenFlow "prerequisites"). */
export type Prereq =
  | 'none' | 'in_port' | 'vlan' | 'ip' | 'ipv4' | 'ipv6' | 'arp' | 'mpls' | 'pbb'
  | 'tcp' | 'udp' | 'sctp' | 'icmpv4' | 'icmpv6' | 'nd' | 'nd_sll' | 'nd_tll' | 'ct' | 'nsh';

/**
 * One wire code of a field. `since` is the OpenFlow wire version from which
 * OVS prefers this code (0 for NXM and other version-less codes); an
 * encoder for version v uses the last code with since <= v, else the first.
 */
export interface FieldCode {
  readonly cls: number;
  readonly field: number;
  readonly since: number;
  /** Experimenter OXM (class 0xffff): the experimenter id that follows the header. */
  readonly experimenter?: number;
  /** Value bytes when they differ from the field's (NXM_OF_IN_PORT carries a 16-bit port). */
  readonly bytes?: number;
}

export interface MatchField {
  /** ovs-ofctl field name. */
  readonly name: string;
  /** Bytes on the wire (value; the mask is as long again). */
  readonly bytes: number;
  /** Meaningful low bits; higher bits must be zero. */
  readonly bits: number;
  readonly maskable: boolean;
  readonly prereq: Prereq;
  /** Wire codes, ordered by `since`. */
  readonly codes: readonly FieldCode[];
  /** The only values the field takes, where OVS checks them (nsh_mdtype: 1 or 2). */
  readonly values?: readonly bigint[];
  /**
   * Variable length (tun_metadata0-63): an entry carries 0..`bytes` value bytes, its length is on the wire
   * (`FieldMatch.len`), and a switch gives the field the length of its Geneve option mapping.
   */
  readonly variable?: true;
}

export const OFPXMC_NXM_0 = 0x0000;
export const OFPXMC_NXM_1 = 0x0001;
export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_PACKET_REGS = 0x8001;
export const OFPXMC_EXPERIMENTER = 0xffff;
const ONF_EXPERIMENTER_ID = 0x4f4e4600;
const NX_EXPERIMENTER_ID = 0x00002320;
/** OVS's experimenter id for its NSH fields (NXOXM_NSH). */
const NSH_EXPERIMENTER_ID = 0x005ad650;
/** The OXM class of Ericsson's ND extension fields (ERICOXM_OF). */
const OFPXMC_ERICSSON = 0x1000;

/** tun_metadata0-63: how many there are and the most bytes one holds (a Geneve option's longest body). */
export const TUN_METADATA_FIELDS = 64;
export const TUN_METADATA_BYTES = 124;

/** N of tun_metadataN, or undefined for any other name. */
export function tunMetadataIndex(name: string): number | undefined {
  if (!name.startsWith('tun_metadata')) return undefined;
  const n = Number(name.slice(12));
  return Number.isInteger(n) && n >= 0 && n < TUN_METADATA_FIELDS && String(n) === name.slice(12) ? n : undefined;
}

// Wire versions: OF1.2 = 3, OF1.3 = 4, OF1.4 = 5, OF1.5 = 6.
const nxm = (cls: number, field: number, bytes?: number): FieldCode => ({ cls, field, since: 0, ...(bytes ? { bytes } : {}) });
const oxm = (field: number, since = 3): FieldCode => ({ cls: OFPXMC_OPENFLOW_BASIC, field, since });
const onf = (field: number, since: number): FieldCode => ({ cls: OFPXMC_EXPERIMENTER, field, since, experimenter: ONF_EXPERIMENTER_ID });
const nxoxm = (field: number): FieldCode => ({ cls: OFPXMC_EXPERIMENTER, field, since: 0, experimenter: NX_EXPERIMENTER_ID });
const nshoxm = (field: number): FieldCode => ({ cls: OFPXMC_EXPERIMENTER, field, since: 0, experimenter: NSH_EXPERIMENTER_ID });
const ericoxm = (field: number): FieldCode => ({ cls: OFPXMC_ERICSSON, field, since: 0 });

function f(name: string, bytes: number, bits: number, maskable: boolean, prereq: Prereq, ...codes: FieldCode[]): MatchField {
  return { name, bytes, bits, maskable, prereq, codes: [...codes].sort((x, y) => x.since - y.since) };
}

/** Wire order of encoders that start from scratch is this table's order: prerequisites come first. */
export const MATCH_FIELDS: readonly MatchField[] = [
  f('in_port', 4, 32, false, 'none', nxm(0, 0, 2), oxm(0)),
  f('in_phy_port', 4, 32, false, 'in_port', oxm(1)),
  f('metadata', 8, 64, true, 'none', oxm(2)),
  f('eth_dst', 6, 48, true, 'none', nxm(0, 1), oxm(3)),
  f('eth_src', 6, 48, true, 'none', nxm(0, 2), oxm(4)),
  f('eth_type', 2, 16, false, 'none', nxm(0, 3), oxm(5)),
  f('vlan_tci', 2, 16, true, 'none', nxm(0, 4)),
  f('vlan_vid', 2, 13, true, 'none', oxm(6)),
  f('vlan_pcp', 1, 3, false, 'vlan', oxm(7)),
  f('ip_dscp', 1, 6, false, 'ip', oxm(8)),
  f('nw_tos', 1, 8, false, 'ip', nxm(0, 5)),
  f('nw_ecn', 1, 2, false, 'ip', nxm(1, 28), oxm(9)),
  f('nw_proto', 1, 8, false, 'ip', nxm(0, 6), oxm(10)),
  f('nw_ttl', 1, 8, false, 'ip', nxm(1, 29)),
  f('ip_frag', 1, 2, true, 'ip', nxm(1, 26)),
  f('ip_src', 4, 32, true, 'ipv4', nxm(0, 7), oxm(11)),
  f('ip_dst', 4, 32, true, 'ipv4', nxm(0, 8), oxm(12)),
  f('tcp_src', 2, 16, true, 'tcp', nxm(0, 9), oxm(13)),
  f('tcp_dst', 2, 16, true, 'tcp', nxm(0, 10), oxm(14)),
  f('udp_src', 2, 16, true, 'udp', nxm(0, 11), oxm(15)),
  f('udp_dst', 2, 16, true, 'udp', nxm(0, 12), oxm(16)),
  f('sctp_src', 2, 16, true, 'sctp', oxm(17)),
  f('sctp_dst', 2, 16, true, 'sctp', oxm(18)),
  f('icmp_type', 1, 8, false, 'icmpv4', nxm(0, 13), oxm(19)),
  f('icmp_code', 1, 8, false, 'icmpv4', nxm(0, 14), oxm(20)),
  f('arp_op', 2, 16, false, 'arp', nxm(0, 15), oxm(21)),
  f('arp_spa', 4, 32, true, 'arp', nxm(0, 16), oxm(22)),
  f('arp_tpa', 4, 32, true, 'arp', nxm(0, 17), oxm(23)),
  f('arp_sha', 6, 48, true, 'arp', nxm(1, 17), oxm(24)),
  f('arp_tha', 6, 48, true, 'arp', nxm(1, 18), oxm(25)),
  f('ipv6_src', 16, 128, true, 'ipv6', nxm(1, 19), oxm(26)),
  f('ipv6_dst', 16, 128, true, 'ipv6', nxm(1, 20), oxm(27)),
  f('ipv6_label', 4, 20, true, 'ipv6', nxm(1, 27), oxm(28)),
  f('icmpv6_type', 1, 8, false, 'icmpv6', nxm(1, 21), oxm(29)),
  f('icmpv6_code', 1, 8, false, 'icmpv6', nxm(1, 22), oxm(30)),
  f('nd_target', 16, 128, true, 'nd', nxm(1, 23), oxm(31)),
  f('nd_sll', 6, 48, true, 'nd_sll', nxm(1, 24), oxm(32)),
  f('nd_tll', 6, 48, true, 'nd_tll', nxm(1, 25), oxm(33)),
  // The ND reserved word (the R/S/O flags of an advertisement) and the type of the first link-layer address option.
  f('nd_reserved', 4, 32, false, 'nd', ericoxm(1)),
  f('nd_options_type', 1, 8, false, 'nd', ericoxm(2)),
  f('mpls_label', 4, 20, false, 'mpls', oxm(34)),
  f('mpls_tc', 1, 3, false, 'mpls', oxm(35)),
  f('mpls_bos', 1, 1, false, 'mpls', oxm(36, 4)),
  f('mpls_ttl', 1, 8, false, 'mpls', nxm(1, 30)),
  f('pbb_isid', 3, 24, true, 'pbb', oxm(37, 4)),
  f('tun_id', 8, 64, true, 'none', nxm(1, 16), oxm(38, 4)),
  f('ipv6_exthdr', 2, 9, true, 'ipv6', oxm(39, 4)),
  f('pbb_uca', 1, 1, false, 'pbb', oxm(41, 5)),
  f('tcp_flags', 2, 12, true, 'tcp', nxm(1, 34), onf(42, 4), oxm(42, 6)),
  f('actset_output', 4, 32, false, 'none', onf(43, 4), oxm(43, 6)),
  f('packet_type', 4, 32, false, 'none', oxm(44, 6)),
  // NSH (ethertype 0x894f): base header, service path header (24-bit SPI, SI), MD type 1 context words.
  // The TTL is 6 bits and the SPI 24 on the wire: OVS refuses larger values (OFPBMC_BAD_VALUE).
  f('nsh_flags', 1, 8, true, 'nsh', nshoxm(1)),
  { ...f('nsh_mdtype', 1, 8, false, 'nsh', nshoxm(2)), values: [1n, 2n] },
  f('nsh_np', 1, 8, false, 'nsh', nshoxm(3)),
  f('nsh_spi', 4, 24, false, 'nsh', nshoxm(4)),
  f('nsh_si', 1, 8, false, 'nsh', nshoxm(5)),
  ...[1, 2, 3, 4].map((i) => f(`nsh_c${i}`, 4, 32, true, 'nsh', nshoxm(5 + i))),
  f('nsh_ttl', 1, 6, false, 'nsh', nshoxm(10)),
  // Nicira extensions.
  f('tun_src', 4, 32, true, 'none', nxm(1, 31)),
  f('tun_dst', 4, 32, true, 'none', nxm(1, 32)),
  f('tun_ipv6_src', 16, 128, true, 'none', nxm(1, 109)),
  f('tun_ipv6_dst', 16, 128, true, 'none', nxm(1, 110)),
  f('tun_flags', 2, 1, true, 'none', nxm(1, 104)),
  f('tun_gbp_id', 2, 16, true, 'none', nxm(1, 38)),
  f('tun_gbp_flags', 1, 8, true, 'none', nxm(1, 39)),
  // Geneve options by their TLV mapping (NXT_TLV_TABLE_MOD): up to 124 bytes each, in OVS's wire order after the GBP fields.
  ...Array.from({ length: TUN_METADATA_FIELDS }, (_, i) => ({ ...f(`tun_metadata${i}`, TUN_METADATA_BYTES, 8 * TUN_METADATA_BYTES, true, 'none', nxm(1, 40 + i)), variable: true as const })),
  // ERSPAN and GTP-U tunnel metadata. OVS stores and checks whole bytes/words (the ERSPAN index is nominally 20 bits,
  // the version 4, the direction 1, the hardware id 6), so these take any value of their width.
  f('tun_erspan_idx', 4, 32, true, 'none', nxoxm(11)),
  f('tun_erspan_ver', 1, 8, true, 'none', nxoxm(12)),
  f('tun_erspan_dir', 1, 8, true, 'none', nxoxm(13)),
  f('tun_erspan_hwid', 1, 8, true, 'none', nxoxm(14)),
  f('tun_gtpu_flags', 1, 8, true, 'none', nxoxm(15)),
  f('tun_gtpu_msgtype', 1, 8, true, 'none', nxoxm(16)),
  f('pkt_mark', 4, 32, true, 'none', nxm(1, 33)),
  f('dp_hash', 4, 32, true, 'none', nxm(1, 35), nxoxm(0)),
  f('recirc_id', 4, 32, false, 'none', nxm(1, 36)),
  f('conj_id', 4, 32, false, 'none', nxm(1, 37)),
  f('ct_state', 4, 32, true, 'none', nxm(1, 105)),
  f('ct_zone', 2, 16, false, 'none', nxm(1, 106)),
  f('ct_mark', 4, 32, true, 'none', nxm(1, 107)),
  f('ct_label', 16, 128, true, 'none', nxm(1, 108)),
  f('ct_nw_proto', 1, 8, false, 'ct', nxm(1, 119)),
  f('ct_nw_src', 4, 32, true, 'ct', nxm(1, 120)),
  f('ct_nw_dst', 4, 32, true, 'ct', nxm(1, 121)),
  f('ct_ipv6_src', 16, 128, true, 'ct', nxm(1, 122)),
  f('ct_ipv6_dst', 16, 128, true, 'ct', nxm(1, 123)),
  f('ct_tp_src', 2, 16, true, 'ct', nxm(1, 124)),
  f('ct_tp_dst', 2, 16, true, 'ct', nxm(1, 125)),
  ...Array.from({ length: 16 }, (_, i) => f(`reg${i}`, 4, 32, true, 'none', nxm(1, i))),
  ...Array.from({ length: 8 }, (_, i) => f(`xreg${i}`, 8, 64, true, 'none', { cls: OFPXMC_PACKET_REGS, field: i, since: 4 })),
  ...Array.from({ length: 4 }, (_, i) => f(`xxreg${i}`, 16, 128, true, 'none', nxm(1, 111 + i))),
];

export const FIELD_BY_NAME: ReadonlyMap<string, MatchField> = new Map(MATCH_FIELDS.map((x) => [x.name, x]));

/** Lookup key of a wire code: class, field and (for experimenter OXM) the experimenter id. */
export function codeKey(cls: number, field: number, experimenter = 0): string {
  return `${cls}:${field}:${experimenter}`;
}

/** Any known OXM/NXM code → its field and the code itself. */
export const FIELD_BY_CODE: ReadonlyMap<string, { field: MatchField; code: FieldCode }> = (() => {
  const m = new Map<string, { field: MatchField; code: FieldCode }>();
  for (const field of MATCH_FIELDS) {
    for (const code of field.codes) m.set(codeKey(code.cls, code.field, code.experimenter), { field, code });
  }
  return m;
})();

/** The code OVS would use for `field` in OpenFlow wire `version` (0 = NXM). */
export function codeFor(field: MatchField, version: number): FieldCode {
  let pick = field.codes[0];
  for (const c of field.codes) if (version >= c.since) pick = c;
  return pick;
}

// ct_state bits (OVS).
export const CS = { NEW: 0x01, EST: 0x02, REL: 0x04, RPL: 0x08, INV: 0x10, TRK: 0x20, SNAT: 0x40, DNAT: 0x80 } as const;
export const OFPVID_PRESENT = 0x1000;

/**
 * Fields set_field, load and move may not write (OVS's ovs-fields "Access: read-only"): they describe the packet's
 * shape or state rather than being bits of it.
 */
export const READ_ONLY_FIELDS: ReadonlySet<string> = new Set([
  'conj_id', 'tun_gtpu_flags', 'tun_gtpu_msgtype', 'skb_priority', 'actset_output', 'packet_type', 'ct_state', 'ct_zone',
  'ct_nw_src', 'ct_nw_dst', 'ct_ipv6_src', 'ct_ipv6_dst', 'ct_nw_proto', 'ct_tp_src', 'ct_tp_dst', 'eth_type', 'mpls_bos',
  'nw_proto', 'ip_frag', 'nsh_mdtype', 'nsh_np', 'tcp_flags',
]);

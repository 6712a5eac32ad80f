// OVS's match fields in its own (meta-flow) order, which is the order
// ovs-ofctl lists fields in (table features, group selection fields), with
// whether each takes an arbitrary mask and the NXM/OXM headers that name it.
// Each entry: name, "*" when maskable, then headers as "class.field" (hex
// class) or "xVENDOR.field" for experimenter OXMs. "@tun_metadata" stands for
// tun_metadata0..63 (NXM class 1, fields 40..103, maskable).

const TABLE = `
  dp_hash* x2320.0 1.35;recirc_id 1.36;packet_type 8000.44;conj_id 1.37;tun_id* 1.16 8000.38;tun_src* 1.31;
  tun_dst* 1.32;tun_ipv6_src* 1.109;tun_ipv6_dst* 1.110;tun_flags* 1.104;tun_ttl;tun_tos;tun_gbp_id* 1.38;
  tun_gbp_flags* 1.39;tun_erspan_idx* x2320.11;tun_erspan_ver* x2320.12;tun_erspan_dir* x2320.13;
  tun_erspan_hwid* x2320.14;tun_gtpu_flags* x2320.15;tun_gtpu_msgtype* x2320.16;@tun_metadata;metadata* 8000.2;
  in_port 0.0;in_port_oxm 8000.0;actset_output x4f4e4600.43 8000.43;skb_priority;pkt_mark* 1.33;ct_state* 1.105;
  ct_zone 1.106;ct_mark* 1.107;ct_label* 1.108;ct_nw_proto 1.119;ct_nw_src* 1.120;ct_nw_dst* 1.121;ct_ipv6_src* 1.122;
  ct_ipv6_dst* 1.123;ct_tp_src* 1.124;ct_tp_dst* 1.125;reg0* 1.0;reg1* 1.1;reg2* 1.2;reg3* 1.3;reg4* 1.4;reg5* 1.5;
  reg6* 1.6;reg7* 1.7;reg8* 1.8;reg9* 1.9;reg10* 1.10;reg11* 1.11;reg12* 1.12;reg13* 1.13;reg14* 1.14;reg15* 1.15;
  xreg0* 8001.0;xreg1* 8001.1;xreg2* 8001.2;xreg3* 8001.3;xreg4* 8001.4;xreg5* 8001.5;xreg6* 8001.6;xreg7* 8001.7;
  xxreg0* 1.111;xxreg1* 1.112;xxreg2* 1.113;xxreg3* 1.114;eth_src* 0.2 8000.4;eth_dst* 0.1 8000.3;eth_type 0.3 8000.5;
  vlan_tci* 0.4;dl_vlan;vlan_vid* 8000.6;dl_vlan_pcp;vlan_pcp 8000.7;mpls_label 8000.34;mpls_tc 8000.35;
  mpls_bos 8000.36;mpls_ttl 1.30;ip_src* 0.7 8000.11;ip_dst* 0.8 8000.12;ipv6_src* 1.19 8000.26;ipv6_dst* 1.20 8000.27;
  ipv6_label* 1.27 8000.28;nw_proto 0.6 8000.10;nw_tos 0.5;ip_dscp 8000.8;nw_ecn 1.28 8000.9;nw_ttl 1.29;ip_frag* 1.26;
  arp_op 0.15 8000.21;arp_spa* 0.16 8000.22;arp_tpa* 0.17 8000.23;arp_sha* 1.17 8000.24;arp_tha* 1.18 8000.25;
  tcp_src* 0.9 8000.13;tcp_dst* 0.10 8000.14;tcp_flags* 1.34 x4f4e4600.42 8000.42;udp_src* 0.11 8000.15;
  udp_dst* 0.12 8000.16;sctp_src* 8000.17;sctp_dst* 8000.18;icmp_type 0.13 8000.19;icmp_code 0.14 8000.20;
  icmpv6_type 1.21 8000.29;icmpv6_code 1.22 8000.30;nd_target* 1.23 8000.31;nd_sll* 1.24 8000.32;nd_tll* 1.25 8000.33;
  nd_reserved 1000.1;nd_options_type 1000.2;nsh_flags* x5ad650.1;nsh_mdtype x5ad650.2;nsh_np x5ad650.3;
  nsh_spi x5ad650.4;nsh_si x5ad650.5;nsh_c1* x5ad650.6;nsh_c2* x5ad650.7;nsh_c3* x5ad650.8;nsh_c4* x5ad650.9;
  nsh_ttl x5ad650.10;`;

export interface MfField {
  readonly id: number;
  readonly name: string;
  readonly maskable: boolean;
}

/** Every field, by meta-flow id. */
export const MF_FIELDS: readonly MfField[] = [];
const byHeader = new Map<string, MfField>();

for (const tok of TABLE.split(';')) {
  const t = tok.trim();
  if (!t) continue;
  const add = (name: string, maskable: boolean, codes: string[]) => {
    const f: MfField = { id: MF_FIELDS.length, name, maskable };
    (MF_FIELDS as MfField[]).push(f);
    for (const c of codes) byHeader.set(c, f);
  };
  if (t === '@tun_metadata') {
    for (let i = 0; i < 64; i++) add(`tun_metadata${i}`, true, [`1.${40 + i}`]);
    continue;
  }
  const [head, ...codes] = t.split(' ');
  add(head.replace(/\*$/, ''), head.endsWith('*'), codes);
}

/** The field an NXM/OXM header names (class, field; `experimenter` for class 0xffff), if OVS knows it. */
export function mfFromHeader(cls: number, field: number, experimenter?: number): MfField | undefined {
  const key = cls === 0xffff ? `x${(experimenter ?? 0).toString(16)}.${field}` : `${cls.toString(16)}.${field}`;
  return byHeader.get(key);
}

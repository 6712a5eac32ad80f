// The one-line flow summary OVS prints for a packet carried in PACKET_IN and
// PACKET_OUT (flow_extract + flow_format, then the L4 checksum).

function mac(b: Uint8Array, o: number): string {
  return Array.from(b.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function ip4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ip6(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  // The longest run of two or more zero words becomes "::" (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexw = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hexw(words);
  return hexw(words.slice(0, best)) + '::' + hexw(words.slice(best + bestLen));
}

const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr', 'ns'];

function tcpFlags(f: number): string {
  const names = TCP_FLAG_NAMES.filter((_, i) => f & (1 << i));
  const rest = f & ~0x1ff;
  if (rest) names.push('0x' + rest.toString(16));
  return names.length ? names.join('|') : '0';
}

/** "ip,vlan_tci=0x0000,dl_src=...,nw_frag=no" (plus " tcp_csum:..." and so on) and a newline. */
export function formatPacket(data: Uint8Array): string {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: string[] = [];
  let proto = '';
  if (data.length < 14) {
    return 'vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x05ff\n';
  }
  const dst = mac(data, 0);
  const src = mac(data, 6);
  let o = 12;
  let type = dv.getUint16(o);
  const vlans: number[] = [];
  while ((type === 0x8100 || type === 0x88a8) && o + 6 <= data.length && vlans.length < 2) {
    vlans.push(dv.getUint16(o + 2));
    o += 4;
    type = dv.getUint16(o);
  }
  o += 2;
  if (type < 0x600) type = 0x5ff;
  const l2: string[] = [];
  if (vlans.length) {
    l2.push(`dl_vlan=${vlans[0] & 0xfff}`, `dl_vlan_pcp=${vlans[0] >> 13}`);
    l2.push(vlans.length > 1 ? `dl_vlan1=${vlans[1] & 0xfff},dl_vlan_pcp1=${vlans[1] >> 13}` : 'vlan_tci1=0x0000');
  } else {
    l2.push('vlan_tci=0x0000');
  }
  l2.push(`dl_src=${src}`, `dl_dst=${dst}`);
  let csum = '';
  if (type === 0x0800 && o + 20 <= data.length) {
    const ihl = (data[o] & 0xf) * 4;
    const tos = data[o + 1];
    const frag = dv.getUint16(o + 6);
    const ttl = data[o + 8];
    const p = data[o + 9];
    const fragText = frag & 0x3fff ? (frag & 0x1fff ? 'later' : 'first') : 'no';
    const l4 = o + ihl;
    const hasL4 = !(frag & 0x1fff);
    proto = p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : p === 132 ? 'sctp' : 'ip';
    parts.push(`nw_src=${ip4(data, o + 12)}`, `nw_dst=${ip4(data, o + 16)}`);
    if (proto === 'ip') parts.push(`nw_proto=${p}`);
    parts.push(`nw_tos=${tos & 0xfc}`, `nw_ecn=${tos & 3}`, `nw_ttl=${ttl}`, `nw_frag=${fragText}`);
    csum = l4Fields(proto, data, dv, l4, hasL4, parts);
  } else if (type === 0x86dd && o + 40 <= data.length) {
    const vtc = dv.getUint32(o);
    const tc = (vtc >>> 20) & 0xff;
    const label = vtc & 0xfffff;
    const p = data[o + 6];
    const hl = data[o + 7];
    proto = p === 6 ? 'tcp6' : p === 17 ? 'udp6' : p === 58 ? 'icmp6' : p === 132 ? 'sctp6' : 'ipv6';
    parts.push(`ipv6_src=${ip6(data, o + 8)}`, `ipv6_dst=${ip6(data, o + 24)}`, `ipv6_label=0x${label.toString(16).padStart(5, '0')}`);
    if (proto === 'ipv6') parts.push(`nw_proto=${p}`);
    parts.push(`nw_tos=${tc & 0xfc}`, `nw_ecn=${tc & 3}`, `nw_ttl=${hl}`, 'nw_frag=no');
    csum = l4Fields(proto.replace('6', ''), data, dv, o + 40, true, parts);
  } else if ((type === 0x0806 || type === 0x8035) && o + 28 <= data.length) {
    proto = type === 0x0806 ? 'arp' : 'rarp';
    const op = dv.getUint16(o + 6);
    parts.push(`arp_spa=${ip4(data, o + 14)}`, `arp_tpa=${ip4(data, o + 24)}`, `arp_op=${op}`, `arp_sha=${mac(data, o + 8)}`, `arp_tha=${mac(data, o + 18)}`);
  } else {
    parts.push(`dl_type=0x${type.toString(16).padStart(4, '0')}`);
  }
  const head = proto ? [proto] : [];
  return [...head, ...l2, ...parts].join(',') + csum + '\n';
}

function l4Fields(proto: string, data: Uint8Array, dv: DataView, l4: number, hasL4: boolean, parts: string[]): string {
  const room = data.length - l4;
  if (proto === 'tcp') {
    const ok = hasL4 && room >= 20;
    parts.push(`tp_src=${ok ? dv.getUint16(l4) : 0}`, `tp_dst=${ok ? dv.getUint16(l4 + 2) : 0}`, `tcp_flags=${tcpFlags(ok ? dv.getUint16(l4 + 12) & 0xfff : 0)}`);
    return ok ? ` tcp_csum:${dv.getUint16(l4 + 16).toString(16)}` : '';
  }
  if (proto === 'udp' || proto === 'sctp') {
    const need = proto === 'udp' ? 8 : 12;
    const ok = hasL4 && room >= need;
    parts.push(`tp_src=${ok ? dv.getUint16(l4) : 0}`, `tp_dst=${ok ? dv.getUint16(l4 + 2) : 0}`);
    if (!ok) return '';
    return proto === 'udp' ? ` udp_csum:${dv.getUint16(l4 + 6).toString(16)}` : ` sctp_csum:${dv.getUint32(l4 + 8).toString(16)}`;
  }
  if (proto === 'icmp') {
    const ok = hasL4 && room >= 4;
    parts.push(`icmp_type=${ok ? data[l4] : 0}`, `icmp_code=${ok ? data[l4 + 1] : 0}`);
    return ok ? ` icmp_csum:${dv.getUint16(l4 + 2).toString(16)}` : '';
  }
  return '';
}

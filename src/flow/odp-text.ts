// A datapath flow in OVS's ODP syntax (what dpctl/dump-flows prints and what
// netdev-dummy/receive and ofproto/trace also take), e.g.
//   in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),
//   ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=9,dst=9)
// turned into the OpenFlow flow text that says the same of a packet, so the
// flow text parser does the value parsing and checking. Masks (value/mask)
// keep their value: a packet has no wildcards. Datapath metadata that is not
// in the frame (in_port, recirc_id, skb_mark, ...) is left out.

/** One attribute: its name and its inside (fields, or nested attributes for encap). */
interface Attr { readonly name: string; readonly body: string }

/** True when `text` is written in ODP syntax (starts with an attribute, not a field=value). */
export function isOdpFlow(text: string): boolean {
  return /^\s*[a-z_0-9]+\(/.test(text);
}

function attrs(text: string): Attr[] {
  const out: Attr[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ',' || text[i] === ' ') i++;
    if (i >= text.length) break;
    const open = text.indexOf('(', i);
    if (open < 0) throw new Error(`syntax error at ${text.slice(i)}`);
    const name = text.slice(i, open).trim();
    if (!/^[a-z_0-9]+$/.test(name)) throw new Error(`syntax error at ${text.slice(i)}`);
    let depth = 0;
    let j = open;
    for (; j < text.length; j++) {
      if (text[j] === '(') depth++;
      else if (text[j] === ')' && --depth === 0) break;
    }
    if (depth !== 0) throw new Error(`syntax error at ${text.slice(i)}: unbalanced parentheses`);
    out.push({ name, body: text.slice(open + 1, j) });
    i = j + 1;
  }
  return out;
}

function fields(a: Attr): Map<string, string> {
  const m = new Map<string, string>();
  if (!a.body.trim()) return m;
  for (const part of a.body.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`${a.name}: expected field=value, got "${part}"`);
    // A packet has no wildcards: value/mask means the value.
    m.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim().split('/')[0]!);
  }
  return m;
}

/** The flow-text fields each attribute's fields become. */
const RENAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  eth: { src: 'dl_src', dst: 'dl_dst' },
  ipv4: { src: 'nw_src', dst: 'nw_dst', proto: 'nw_proto', ttl: 'nw_ttl' },
  ipv6: { src: 'ipv6_src', dst: 'ipv6_dst', label: 'ipv6_label', proto: 'nw_proto', hlimit: 'nw_ttl' },
  tcp: { src: 'tcp_src', dst: 'tcp_dst' },
  udp: { src: 'udp_src', dst: 'udp_dst' },
  sctp: { src: 'sctp_src', dst: 'sctp_dst' },
  icmp: { type: 'icmp_type', code: 'icmp_code' },
  icmpv6: { type: 'icmpv6_type', code: 'icmpv6_code' },
  arp: { sip: 'arp_spa', tip: 'arp_tpa', op: 'arp_op', sha: 'arp_sha', tha: 'arp_tha' },
  nd: { target: 'nd_target', sll: 'nd_sll', tll: 'nd_tll' },
  mpls: { label: 'mpls_label', tc: 'mpls_tc', ttl: 'mpls_ttl', bos: 'mpls_bos' },
};

/** Attributes that describe the datapath's handling, not the frame. */
const METADATA = new Set(['in_port', 'recirc_id', 'dp_hash', 'skb_priority', 'skb_mark', 'packet_type', 'ct_state',
  'ct_zone', 'ct_mark', 'ct_label', 'ct_tuple4', 'ct_tuple6', 'tunnel', 'tcp_flags']);

/** The OpenFlow flow text of an ODP flow (throws Error with OVS's "syntax error at ..." wording on bad input). */
export function flowTextOfOdp(text: string): string {
  const out: string[] = [];
  const walk = (list: Attr[], tagged: boolean): void => {
    for (const a of list) {
      if (METADATA.has(a.name)) continue;
      if (a.name === 'eth_type') {
        // Outside encap, a VLAN's TPID: the real type comes inside.
        if (!(tagged && /^0x0*8100$/i.test(a.body.trim().split('/')[0]!))) out.push(`dl_type=${a.body.trim().split('/')[0]}`);
      } else if (a.name === 'vlan') {
        const f = fields(a);
        out.push(`dl_vlan=${f.get('vid') ?? '0'}`);
        if (f.has('pcp')) out.push(`dl_vlan_pcp=${f.get('pcp')}`);
      } else if (a.name === 'encap') {
        walk(attrs(a.body), false);
      } else if ((a.name === 'ipv4' || a.name === 'ipv6')) {
        const f = fields(a);
        const tos = f.get(a.name === 'ipv4' ? 'tos' : 'tclass');
        if (tos !== undefined) {
          const n = Number(tos);
          if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`${a.name}: bad ${a.name === 'ipv4' ? 'tos' : 'tclass'} ${tos}`);
          out.push(`nw_tos=${n & 0xfc}`, `nw_ecn=${n & 3}`);
        }
        const frag = f.get('frag');
        if (frag !== undefined && frag !== 'no') out.push(`nw_frag=${frag}`);
        for (const [k, v] of f) {
          if (k === 'tos' || k === 'tclass' || k === 'frag') continue;
          const name = RENAMES[a.name]![k];
          if (!name) throw new Error(`${a.name}: unknown field ${k}`);
          out.push(`${name}=${v}`);
        }
      } else if (RENAMES[a.name]) {
        for (const [k, v] of fields(a)) {
          const name = RENAMES[a.name]![k];
          if (!name) throw new Error(`${a.name}: unknown field ${k}`);
          out.push(`${name}=${v}`);
        }
      } else {
        throw new Error(`syntax error at ${a.name}(${a.body})`);
      }
    }
  };
  const top = attrs(text);
  walk(top, top.some((a) => a.name === 'vlan'));
  return out.join(',');
}

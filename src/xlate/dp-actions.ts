// A translation's actions in the datapath's vocabulary (the last step of
// OVS's xlate, odp-execute's input): OpenFlow ports become datapath ports,
// whole-key rewrites become masked sets of the fields that changed, packet-ins
// and meters become handles the owner keeps, and tunnel output becomes
// tnl_push (on a clone when more follows) and tunnel input tnl_pop.

import { tunnelHeader, type DpAction as DpifAction } from '../dpif/index.js';
import { FLOW_WORDS, fieldSlot } from '../flow/index.js';
import { OFPP, type TunnelKind, type XlateBridge, type XlatePacketIn } from './bridge.js';
import type { DpAction } from './odp.js';

/** What a packet-in or meter handle stands for. */
export interface DpHandle {
  readonly bridge: XlateBridge;
  readonly pin?: Omit<XlatePacketIn, 'frame'>;
  readonly meter?: number;
}

/** What the conversion looks up in the datapath's owner. */
export interface DpActionContext {
  /** The datapath port of a bridge's OpenFlow port, if the datapath has it. */
  dpPort(bridge: XlateBridge, ofport: number): number | undefined;
  /** The shared datapath port of a kind of tunnel on a UDP port (0 for GRE). */
  tunnelPort(kind: TunnelKind, udpPort: number): number | undefined;
  /** A cookie (userspace) or id (meter) standing for `h`. */
  handle(h: DpHandle): number;
}

/** Header fields a datapath set action may rewrite (the rest of a translation's flow changes are pipeline metadata). */
const SETTABLE_FIELDS = [
  'eth_src', 'eth_dst', 'ip_src', 'ip_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_label', 'ip_tos', 'nw_ttl', 'arp_op', 'arp_spa', 'arp_tpa',
  'arp_sha', 'arp_tha', 'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'sctp_src', 'sctp_dst', 'icmp_type', 'icmp_code',
  'mpls_label', 'mpls_tc', 'mpls_ttl', 'mpls_bos', 'nd_target', 'nd_sll', 'nd_tll', 'nd_reserved', 'nd_options_type',
  'nsh_flags', 'nsh_ttl', 'nsh_spi', 'nsh_si', 'nsh_c1', 'nsh_c2', 'nsh_c3', 'nsh_c4',
];
/** Each settable field's words and the mask of its bits in each word (a 48-bit MAC: 16 bits, then 32). */
const SETTABLE: ReadonlyArray<{ readonly words: readonly number[]; readonly full: readonly number[] }> = SETTABLE_FIELDS.map((n) => {
  const s = fieldSlot(n);
  const words = Array.from({ length: s.words }, (_, i) => s.word + i);
  const top = s.bits - 32 * (s.words - 1);
  const full = words.map((_, i) => (i === 0 && top < 32 ? ((1 << top) - 1) >>> 0 : 0xffffffff));
  return { words, full };
});
const ALL_ONES = new Uint32Array(FLOW_WORDS).fill(0xffffffff);

/**
 * xlate's actions (OpenFlow port numbers, whole-key sets) in the datapath's
 * vocabulary; `counters` collects the tunnel ports whose counters the flow's
 * statistics move.
 */
export function toDatapath(ctx: DpActionContext, bridge: XlateBridge, list: readonly DpAction[], wc: Uint32Array,
  counters: Array<(bytes: number, packets: number) => void>): DpifAction[] {
  const out: DpifAction[] = [];
  for (const [i, a] of list.entries()) {
    switch (a.type) {
      case 'set': {
        // A changed field is set whole (OVS's commit), unless the translation matched only part of it,
        // when only the changed bits are (a masked set_field on a megaflow that wildcards the rest).
        const key = new Uint32Array(a.key.length);
        const mask = new Uint32Array(a.key.length);
        let any = false;
        for (const f of SETTABLE) {
          if (!f.words.some((w) => a.from[w] !== a.key[w])) continue;
          const whole = f.words.every((w, i) => ((wc[w]! & f.full[i]!) >>> 0) === f.full[i]);
          f.words.forEach((w, i) => {
            mask[w] = whole ? f.full[i]! : (a.from[w]! ^ a.key[w]!) >>> 0;
            key[w] = (a.key[w]! & mask[w]!) >>> 0;
          });
          any = true;
        }
        if (any) out.push({ type: 'set', key, mask });
        break;
      }
      case 'output': {
        const dpPort = ctx.dpPort(a.bridge ?? bridge, a.port);
        if (dpPort === undefined) break;
        if (a.maxLen > 0) out.push({ type: 'trunc', maxLen: a.maxLen });
        out.push({ type: 'output', port: dpPort });
        break;
      }
      case 'controller': {
        const cookie = ctx.handle({ bridge, pin: a.pin });
        out.push({ type: 'userspace', pid: 0, cookie, userdata: `controller(reason=${a.pin.reason})` });
        break;
      }
      case 'meter':
        out.push({ type: 'meter', id: ctx.handle({ bridge, meter: a.id }) });
        break;
      case 'push_vlan':
        out.push({ type: 'push_vlan', tpid: a.tpid, tci: a.tci | 0x1000 });
        break;
      case 'pop_vlan':
      case 'push_mpls':
      case 'pop_mpls':
        out.push(a);
        break;
      case 'tunnel_push': {
        // The header goes on, then the underlay bridge's actions (from its local port; every bit of them is fixed, no megaflow
        // of their own) act on the encapsulated packet: on a copy, when more actions follow for the packet itself.
        const tnlPort = ctx.tunnelPort(a.enc.kind, a.enc.kind === 'gre' ? 0 : a.enc.dstPort);
        const local = ctx.dpPort(a.enc.underlay, OFPP.LOCAL);
        if (tnlPort === undefined || local === undefined) break;
        if (a.enc.count) counters.push(a.enc.count);
        const push: DpifAction = { type: 'tnl_push', tnlPort, outPort: local, kind: a.enc.kind, header: tunnelHeader(a.enc) };
        const after = toDatapath(ctx, a.enc.underlay, a.actions, ALL_ONES, counters);
        if (i === list.length - 1) out.push(push, ...after);
        else out.push({ type: 'clone', actions: [push, ...after] });
        break;
      }
      case 'tunnel_pop': {
        const port = ctx.tunnelPort(a.kind, a.udpDst);
        if (port !== undefined) out.push({ type: 'tnl_pop', port });
        return out;
      }
    }
  }
  return out;
}

// Datapath actions: the datapath's own vocabulary (OVS's OVS_ACTION_ATTR_*),
// what a megaflow does to every packet it matches, and their text in ODP
// syntax as `ovs-appctl dpctl/dump-flows` prints it.

import { ATTRS, attrMaskZero, formatAttrFields, formatVlanTci, portText, type AttrName, type PortNames } from './odp-key.js';
import { formatTunnelHeader, type TunnelKind } from './tunnel-header.js';
import { K } from './words.js';

export type DpAction =
  /** Send a copy to datapath port `port`. */
  | { readonly type: 'output'; readonly port: number }
  /**
   * Masked set (OVS_ACTION_ATTR_SET_MASKED): the header fields under `mask`
   * take their bits from `key` (flow-key layout); everything else of the
   * packet stays as it was. Checksums follow.
   */
  | { readonly type: 'set'; readonly key: Uint32Array; readonly mask: Uint32Array }
  /** Insert a VLAN header after the Ethernet addresses; `tci` carries the CFI (tag present) bit as in OVS. */
  | { readonly type: 'push_vlan'; readonly tpid: number; readonly tci: number }
  | { readonly type: 'pop_vlan' }
  /** Insert an MPLS label stack entry after the L2 headers; the frame's ethertype becomes `ethertype`. */
  | { readonly type: 'push_mpls'; readonly ethertype: number; readonly lse: number }
  /** Remove the outermost MPLS label; the frame's ethertype becomes `ethertype`. */
  | { readonly type: 'pop_mpls'; readonly ethertype: number }
  /**
   * To userspace (the controller path): `cookie` is an integer the owner
   * maps to its meaning; `userdata` is the text printed for it, e.g.
   * `controller(reason=1,...)`.
   */
  | { readonly type: 'userspace'; readonly pid: number; readonly cookie: number; readonly userdata?: string }
  /** Run the packet through meter `id`; it stops here when the meter drops it. */
  | { readonly type: 'meter'; readonly id: number }
  /** The next output sends at most `maxLen` bytes of the packet. */
  | { readonly type: 'trunc'; readonly maxLen: number }
  /**
   * Encapsulate (OVS_ACTION_ATTR_TUNNEL_PUSH): `header` (from tunnelHeader)
   * goes in front of the packet, finished for it; the actions after it act
   * on the encapsulated packet. `tnlPort` is the tunnel's datapath port,
   * `outPort` the port the underlay translation started from (both printed).
   */
  | { readonly type: 'tnl_push'; readonly tnlPort: number; readonly outPort: number; readonly kind: TunnelKind; readonly header: Uint8Array }
  /** Decapsulate a packet for tunnel port `port` and run it through the datapath again from there, its tunnel metadata set. */
  | { readonly type: 'tnl_pop'; readonly port: number }
  /** Run `actions` on a copy of the packet; the packet itself goes on unchanged. */
  | { readonly type: 'clone'; readonly actions: readonly DpAction[] };

export class DpifError extends Error {
  override readonly name = 'DpifError';
}

/** ODP attributes a masked set may touch, in the order OVS commits them. */
const SET_ATTRS: readonly AttrName[] = ['eth', 'mpls', 'ipv4', 'ipv6', 'arp', 'tcp', 'udp', 'sctp', 'icmp', 'icmpv6', 'nd', 'nd_ext', 'nsh'];
/** Fields of those attributes that describe the packet rather than being part of it (read-only in OVS). */
const NOT_SETTABLE = new Set(['proto', 'frag', 'mdtype', 'np']);

/** Words of the attributes a set may touch (anything else in a set mask is refused). */
const SETTABLE = (() => {
  const ok = new Uint8Array(256);
  for (const name of SET_ATTRS) {
    if (name === 'mpls') { for (const w of [K.mplsLabel, K.mplsTc, K.mplsBos, K.mplsTtl]) ok[w] = 1; continue; }
    for (const fd of ATTRS[name]) {
      if (NOT_SETTABLE.has(fd.label)) continue;
      const width = fd.fmt === 'eth' ? 2 : fd.fmt === 'ip6' ? 4 : 1;
      for (let i = 0; i < width; i++) ok[fd.word + i] = 1;
    }
  }
  return ok;
})();

/** Throws DpifError when a set action's mask covers something a datapath cannot rewrite. */
export function checkSetMask(mask: Uint32Array): void {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] && !SETTABLE[i]) throw new DpifError(`set action masks flow-key word ${i}, which is not a rewritable header field (vlan changes are push_vlan/pop_vlan)`);
  }
}

/** The IPv6-only words of a mask (addresses and label). */
function onlyV6(mask: Uint32Array): Uint32Array {
  const m = new Uint32Array(mask.length);
  for (let i = 0; i < 4; i++) { m[K.ipv6Src + i] = mask[K.ipv6Src + i]!; m[K.ipv6Dst + i] = mask[K.ipv6Dst + i]!; }
  m[K.ipv6Label] = mask[K.ipv6Label]!;
  return m;
}

/** `set(eth(src=..)),set(ipv4(dst=..))`: one set per ODP attribute the mask touches. */
function formatSet(key: Uint32Array, mask: Uint32Array): string {
  const parts: string[] = [];
  // tos and ttl share words between IPv4 and IPv6: the key's (unmasked) ethertype says which header the set is for.
  const type = key[K.ethType];
  const v6 = type === 0x86dd || (type !== 0x0800 && (mask[K.ipv6Label] !== 0 || !attrMaskZero('ipv6', onlyV6(mask))));
  for (const name of SET_ATTRS) {
    if (attrMaskZero(name, mask) || (name === 'ipv4' && v6) || (name === 'ipv6' && !v6)) continue;
    parts.push(`set(${name}(${formatAttrFields(name, key, mask, false)}))`);
  }
  return parts.length ? parts.join(',') : 'set()';
}

export function formatAction(a: DpAction, names?: PortNames): string {
  switch (a.type) {
    case 'output': return portText(a.port, names);
    case 'set': return formatSet(a.key, a.mask);
    case 'push_vlan':
      return `push_vlan(${a.tpid !== 0x8100 ? `tpid=0x${a.tpid.toString(16).padStart(4, '0')},` : ''}${formatVlanTci(a.tci, 0xffff, false)})`;
    case 'pop_vlan': return 'pop_vlan';
    case 'push_mpls': {
      const l = a.lse;
      return `push_mpls(label=${l >>> 12},tc=${(l >>> 9) & 7},ttl=${l & 0xff},bos=${(l >>> 8) & 1},eth_type=0x${a.ethertype.toString(16)})`;
    }
    case 'pop_mpls': return `pop_mpls(eth_type=0x${a.ethertype.toString(16)})`;
    case 'userspace':
      return `userspace(pid=${a.pid >>> 0},${a.userdata ?? `userdata(${(a.cookie >>> 0).toString(16).padStart(8, '0')})`})`;
    case 'meter': return `meter(${a.id >>> 0})`;
    case 'trunc': return `trunc(${a.maxLen >>> 0})`;
    case 'tnl_push':
      return `tnl_push(tnl_port(${portText(a.tnlPort, names)}),${formatTunnelHeader(a.header, a.kind)},out_port(${portText(a.outPort, names)}))`;
    case 'tnl_pop': return `tnl_pop(${portText(a.port, names)})`;
    case 'clone': return `clone(${a.actions.map((x) => formatAction(x, names)).join(',')})`;
  }
}

/** The actions as dump-flows prints them after `actions:` (`drop` for none). */
export function formatActions(actions: readonly DpAction[], names?: PortNames): string {
  if (actions.length === 0) return 'drop';
  return actions.map((a) => formatAction(a, names)).join(',');
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether two action lists do the same thing (revalidation keeps a flow whose actions are unchanged). */
export function sameActions(x: readonly DpAction[], y: readonly DpAction[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const b = y[i]!;
    if (a.type !== b.type) return false;
    switch (a.type) {
      case 'output': if (a.port !== (b as typeof a).port) return false; break;
      case 'set': {
        const s = b as typeof a;
        if (!sameWords(a.mask, s.mask)) return false;
        for (let w = 0; w < a.key.length; w++) if (((a.key[w]! ^ s.key[w]!) & a.mask[w]!) !== 0) return false;
        break;
      }
      case 'push_vlan': if (a.tpid !== (b as typeof a).tpid || a.tci !== (b as typeof a).tci) return false; break;
      case 'push_mpls': if (a.ethertype !== (b as typeof a).ethertype || a.lse !== (b as typeof a).lse) return false; break;
      case 'pop_mpls': if (a.ethertype !== (b as typeof a).ethertype) return false; break;
      case 'userspace': {
        const u = b as typeof a;
        if (a.pid !== u.pid || a.cookie !== u.cookie || a.userdata !== u.userdata) return false;
        break;
      }
      case 'meter': if (a.id !== (b as typeof a).id) return false; break;
      case 'trunc': if (a.maxLen !== (b as typeof a).maxLen) return false; break;
      case 'tnl_push': {
        const t = b as typeof a;
        if (a.tnlPort !== t.tnlPort || a.outPort !== t.outPort || a.kind !== t.kind || a.header.length !== t.header.length) return false;
        for (let k = 0; k < a.header.length; k++) if (a.header[k] !== t.header[k]) return false;
        break;
      }
      case 'tnl_pop': if (a.port !== (b as typeof a).port) return false; break;
      case 'clone': if (!sameActions(a.actions, (b as typeof a).actions)) return false; break;
      case 'pop_vlan': break;
    }
  }
  return true;
}

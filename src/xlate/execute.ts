// Carries out a translation's datapath actions on a real frame: header
// rewrites, sends on ports, packet-ins, meters.

import type { XlateBridge } from './bridge.js';
import { applyFlowToPacket } from './key.js';
import type { DpAction } from './odp.js';
import { decapsulate, encapsulate } from './tunnel.js';

export interface ExecuteResult {
  /** Copies sent on ports. */
  sent: number;
  packetIns: number;
  /** Stopped by a meter band. */
  meterDropped: boolean;
}

/** Where a decapsulated packet goes in: the bridge's pipeline, from the tunnel port. */
export type Reinject = (bridge: XlateBridge, ofport: number, frame: Uint8Array) => void;

export function executeActions(bridge: XlateBridge, dp: readonly DpAction[], frame: Uint8Array, now: number, reinject?: Reinject): ExecuteResult {
  const res: ExecuteResult = { sent: 0, packetIns: 0, meterDropped: false };
  let cur = frame;
  for (const a of dp) {
    switch (a.type) {
      case 'set':
        cur = applyFlowToPacket(cur, a.from, a.key);
        break;
      case 'output': {
        const port = (a.bridge ?? bridge).ports.get(a.port);
        if (!port) break;
        const data = a.maxLen > 0 && a.maxLen < cur.length ? cur.slice(0, a.maxLen) : cur;
        if (port.netdev.send(data)) res.sent++;
        break;
      }
      case 'controller':
        bridge.connmgr.sendPacketIn({ ...a.pin, frame: cur });
        res.packetIns++;
        break;
      case 'push_mpls': cur = pushMpls(cur, a.ethertype, a.lse); break;
      case 'pop_mpls': cur = popMpls(cur, a.ethertype); break;
      case 'push_vlan': cur = pushVlan(cur, a.tpid, a.tci); break;
      case 'pop_vlan': cur = popVlan(cur); break;
      case 'tunnel_push': {
        const outer = encapsulate(a.enc, a.srcPort, cur);
        a.enc.count?.(cur.length);
        const sub = executeActions(a.enc.underlay, a.actions, outer, now, reinject);
        res.sent += sub.sent;
        res.packetIns += sub.packetIns;
        break;
      }
      case 'tunnel_pop': {
        const d = decapsulate(cur, a.kind);
        const to = d && a.tunnels.portFor(a.kind, d.ipSrc, d.ipDst, d.key, d.udpDst);
        if (d && to && reinject) {
          to.count?.(d.inner.length);
          reinject(to.bridge, to.ofport, d.inner.slice());
        }
        return res;
      }
      case 'meter': {
        const v = bridge.meters.apply(a.id, cur.length, now);
        if (v?.drop) {
          res.meterDropped = true;
          return res;
        }
        break;
      }
    }
  }
  return res;
}

/** Where the ethertype that follows the Ethernet header and its VLAN tags sits. */
function ethertypeOffset(f: Uint8Array): number {
  let o = 12;
  while (o + 4 <= f.length && (((f[o]! << 8) | f[o + 1]!) === 0x8100 || ((f[o]! << 8) | f[o + 1]!) === 0x88a8)) o += 4;
  return o;
}

function pushMpls(f: Uint8Array, ethertype: number, lse: number): Uint8Array {
  const o = ethertypeOffset(f);
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, o));
  out.set([ethertype >> 8, ethertype & 0xff, lse >>> 24, (lse >>> 16) & 0xff, (lse >>> 8) & 0xff, lse & 0xff], o);
  out.set(f.subarray(o + 2), o + 6);
  return out;
}

function popMpls(f: Uint8Array, ethertype: number): Uint8Array {
  const o = ethertypeOffset(f);
  if (f.length < o + 6) return f;
  const out = new Uint8Array(f.length - 4);
  out.set(f.subarray(0, o));
  out.set([ethertype >> 8, ethertype & 0xff], o);
  out.set(f.subarray(o + 6), o + 2);
  return out;
}

function pushVlan(f: Uint8Array, tpid: number, tci: number): Uint8Array {
  if (f.length < 12) return f;
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 12));
  const wire = tci & ~0x1000;
  out.set([tpid >> 8, tpid & 0xff, wire >> 8, wire & 0xff], 12);
  out.set(f.subarray(12), 16);
  return out;
}

function popVlan(f: Uint8Array): Uint8Array {
  if (ethertypeOffset(f) === 12) return f;
  const out = new Uint8Array(f.length - 4);
  out.set(f.subarray(0, 12));
  out.set(f.subarray(16), 12);
  return out;
}

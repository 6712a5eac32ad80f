// A small switch for the pipeline tests: dummy ports, tables with a linear
// classifier, the real group and meter tables of src/ofproto, and a
// connection manager that records packet-ins.

import {
  decodeMessage, encodeMessage, groupModMessage, meterModMessage, parseFlow, parseGroupMod, parseMeterMod,
  type MessageOf,
} from '../../src/openflow/index.js';
import { matchToKeyMask } from '../../src/flow/index.js';
import { GroupTable } from '../../src/ofproto/groups.js';
import { MeterTable } from '../../src/ofproto/meters.js';
import { DummyNetdev } from '../../src/netdev/index.js';
import { MacLearning, type XlateBridge, type XlatePacketIn, type XlatePort, type XlateRule, type XlateTable } from '../../src/xlate/index.js';

export interface FakeRule extends XlateRule {
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
}

/** Highest priority first; every rule examined until the match marks its mask (a conservative classifier). */
class LinearClassifier {
  readonly rules: FakeRule[] = [];
  lookup(key: Uint32Array, wc?: Uint32Array): FakeRule | null {
    for (const r of this.rules) {
      if (wc) for (let i = 0; i < wc.length; i++) wc[i]! |= r.mask[i]!;
      let ok = true;
      for (let i = 0; i < key.length && ok; i++) ok = ((key[i]! & r.mask[i]!) >>> 0) === r.value[i];
      if (ok) return r;
    }
    return null;
  }
}

export interface FakePort extends XlatePort {
  config: number;
  readonly netdev: DummyNetdev;
  readonly sent: Uint8Array[];
}

export class FakeBridge implements XlateBridge {
  readonly tables: (XlateTable & { cls: LinearClassifier })[] = Array.from({ length: 254 }, () => ({ cls: new LinearClassifier(), lookups: 0, matches: 0 }));
  readonly ports = new Map<number, FakePort>();
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  readonly packetIns: XlatePacketIn[] = [];
  readonly learned: string[] = [];
  failOpen = false;
  wantsMiss = false;
  clock = 1000;
  readonly macLearning = new MacLearning({ now: () => this.clock });
  readonly connmgr = {
    sendPacketIn: (p: XlatePacketIn) => { this.packetIns.push(p); },
    wantsPacketInOnMiss: () => this.wantsMiss,
  };

  constructor(readonly name = 'br0', portNumbers: readonly number[] = [1, 2, 3]) {
    this.groups = new GroupTable({ isPortLive: (p) => this.ports.get(p)?.isLive() ?? false, now: () => this.clock });
    this.meters = new MeterTable({ now: () => this.clock });
    for (const n of portNumbers) this.addPort(n, n === 0xfffe ? name : `p${n}`);
  }

  addPort(ofport: number, name: string): FakePort {
    const netdev = new DummyNetdev(name, 'dummy');
    const sent: Uint8Array[] = [];
    netdev.tapTransmit((f) => sent.push(Uint8Array.from(f)));
    const port: FakePort = { ofport, name, netdev, sent, config: 0, isLive: () => netdev.isLinkUp() && !(port.config & 1) };
    this.ports.set(ofport, port);
    return port;
  }

  isFailOpen(): boolean {
    return this.failOpen;
  }

  /** Adds a flow in ovs-ofctl syntax. */
  addFlow(text: string): FakeRule {
    const f = parseFlow(text);
    const { value, mask } = matchToKeyMask(f.match);
    const rule: FakeRule = {
      tableId: f.table === 255 ? 0 : f.table, priority: f.priority, cookie: f.cookie, actions: f.actions, match: f.match,
      packets: 0, bytes: 0, used: 0, value, mask,
    };
    const cls = this.tables[rule.tableId]!.cls;
    cls.rules.push(rule);
    cls.rules.sort((a, b) => b.priority - a.priority);
    return rule;
  }

  addGroup(text: string): void {
    const msg = groupModMessage(parseGroupMod(text, 'add'), 4);
    this.groups.handleGroupMod(decodeMessage(encodeMessage(msg)) as MessageOf<'GROUP_MOD'>);
  }

  addMeter(text: string): void {
    const msg = meterModMessage(parseMeterMod(text, 'add'), 4);
    this.meters.handleMeterMod(decodeMessage(encodeMessage(msg)) as MessageOf<'METER_MOD'>);
  }

  learnFlow(text: string): void {
    this.learned.push(text);
    this.addFlow(text);
  }

  /** Frames sent on a port since the last call. */
  take(port: number): Uint8Array[] {
    const p = this.ports.get(port)!;
    return p.sent.splice(0);
  }
}

// ---------------------------------------------------------------- frames

export function mac(s: string): number[] {
  return s.split(':').map((h) => parseInt(h, 16));
}

function csum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export interface Ipv4Spec { src: string; dst: string; ttl?: number; tos?: number; proto: 6 | 17 | 1; sport?: number; dport?: number; vlan?: number }

function ip(s: string): number[] {
  return s.split('.').map(Number);
}

/** An Ethernet frame carrying IPv4 with a TCP, UDP or ICMP header and 8 bytes of payload, checksums right. */
export function ipv4Frame(dst: string, src: string, spec: Ipv4Spec): Uint8Array {
  const l4len = spec.proto === 6 ? 20 : 8;
  const payload = [1, 2, 3, 4, 5, 6, 7, 8];
  const ipLen = 20 + l4len + payload.length;
  const vlan = spec.vlan !== undefined ? [0x81, 0x00, (spec.vlan >> 8) & 0x0f, spec.vlan & 0xff] : [];
  const eth = [...mac(dst), ...mac(src), ...vlan, 0x08, 0x00];
  const f = new Uint8Array(eth.length + ipLen);
  f.set(eth);
  const o = eth.length;
  f.set([0x45, spec.tos ?? 0, ipLen >> 8, ipLen & 0xff, 0, 1, 0, 0, spec.ttl ?? 64, spec.proto, 0, 0, ...ip(spec.src), ...ip(spec.dst)], o);
  const hc = ~csum(f, o, o + 20) & 0xffff;
  f[o + 10] = hc >> 8;
  f[o + 11] = hc & 0xff;
  const l4 = o + 20;
  const sport = spec.sport ?? 1234;
  const dport = spec.dport ?? 80;
  if (spec.proto === 6) f.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff], l4);
  else if (spec.proto === 17) f.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, (8 + payload.length) >> 8, (8 + payload.length) & 0xff], l4);
  else f.set([8, 0], l4);
  f.set(payload, l4 + l4len);
  const ck = l4Checksum(f, o);
  const at = spec.proto === 6 ? l4 + 16 : spec.proto === 17 ? l4 + 6 : l4 + 2;
  f[at] = ck >> 8;
  f[at + 1] = ck & 0xff;
  return f;
}

function l4Checksum(f: Uint8Array, ipOff: number): number {
  const proto = f[ipOff + 9]!;
  const total = (f[ipOff + 2]! << 8) | f[ipOff + 3]!;
  const l4 = ipOff + 20;
  const len = total - 20;
  if (proto === 1) return ~csum(f, l4, l4 + len) & 0xffff;
  const pseudo = csum(f, ipOff + 12, ipOff + 20) + proto + len;
  return ~csum(f, l4, l4 + len, pseudo) & 0xffff;
}

/** True when the IPv4 header checksum and the TCP/UDP/ICMP checksum of the frame are right. */
export function checksumsValid(f: Uint8Array): boolean {
  let o = 12;
  while (((f[o]! << 8) | f[o + 1]!) === 0x8100) o += 4;
  if (((f[o]! << 8) | f[o + 1]!) !== 0x0800) return true;
  const ipOff = o + 2;
  if (csum(f, ipOff, ipOff + 20) !== 0xffff) return false;
  const proto = f[ipOff + 9]!;
  const total = (f[ipOff + 2]! << 8) | f[ipOff + 3]!;
  const l4 = ipOff + 20;
  if (proto === 1) return csum(f, l4, ipOff + total) === 0xffff;
  const pseudo = csum(f, ipOff + 12, ipOff + 20) + proto + (total - 20);
  return csum(f, l4, ipOff + total, pseudo) === 0xffff;
}

/** A minimal Ethernet frame with an unknown ethertype (for NORMAL tests). */
export function ethFrame(dst: string, src: string, vlan?: number): Uint8Array {
  const v = vlan !== undefined ? [0x81, 0x00, (vlan >> 8) & 0x0f, vlan & 0xff] : [];
  return Uint8Array.from([...mac(dst), ...mac(src), ...v, 0x88, 0xb5, ...new Array(46).fill(0x11)]);
}

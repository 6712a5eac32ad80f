// NORMAL and the five VLAN modes, with real frames: which ports a host's
// frame reaches, with which tags on the wire, which frames a port refuses
// (with OVS's trace words), learning per VLAN, the megaflow mask NORMAL
// leaves (no L3/L4 fields), and the rules a translation reports.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Pipeline, TRUNK_ALL, resolvePortVlan, trace, translate, type PortVlanConfig,
} from '../../src/xlate/index.js';
import { extractFlow, getField, newFlowKey } from '../../src/flow/index.js';
import { FakeBridge, ethFrame, ipv4Frame, mac } from './xlate-fake.js';

const A = '00:00:00:00:00:0a';
const B = '00:00:00:00:00:0b';
const BC = 'ff:ff:ff:ff:ff:ff';

/** A bridge with NORMAL in table 0 and each port's VLAN settings from Port-column style config. */
function setup(cfg: Readonly<Record<number, PortVlanConfig>>) {
  const ports = Object.keys(cfg).map(Number);
  const br = new FakeBridge('br0', ports);
  for (const n of ports) (br.ports.get(n) as { vlan?: unknown }).vlan = resolvePortVlan(`p${n}`, cfg[n]!).vlan;
  br.addFlow('actions=NORMAL');
  const pipe = new Pipeline({ now: () => br.clock });
  const send = (port: number, frame: Uint8Array) => pipe.receive(br, port, frame);
  /** What each port sent, as "vid" tags list per frame ("-" untagged), then cleared. */
  const got = (): Record<number, string[]> => Object.fromEntries(ports.map((n) => [n, br.take(n).map(tagsOf)]));
  return { br, send, got };
}

/** The tags of a frame as "tpid:vid" outermost first, or "-" when untagged. */
function tagsOf(f: Uint8Array): string {
  const out: string[] = [];
  let o = 12;
  for (;;) {
    const t = (f[o]! << 8) | f[o + 1]!;
    if (t !== 0x8100 && t !== 0x88a8) break;
    const tci = (f[o + 2]! << 8) | f[o + 3]!;
    out.push(`${t.toString(16)}:${tci & 0xfff}${tci >> 13 ? `p${tci >> 13}` : ''}`);
    o += 4;
  }
  return out.length ? out.join('/') : '-';
}

/** A frame with any stack of tags ([tpid, vid] outermost first). */
function stacked(dst: string, src: string, tags: readonly (readonly [number, number])[]): Uint8Array {
  const t = tags.flatMap(([tpid, vid]) => [tpid >> 8, tpid & 0xff, vid >> 8, vid & 0xff]);
  return Uint8Array.from([...mac(dst), ...mac(src), ...t, 0x88, 0xb5, ...new Array(46).fill(0x11)]);
}

test('hosts on VLAN 10 access ports reach each other and the trunk (tagged), never the VLAN 20 port', () => {
  const { send, got } = setup({ 1: { tag: 10 }, 2: { tag: 10 }, 3: { tag: 20 }, 4: { trunks: [10, 20] } });
  send(1, ethFrame(BC, A));
  assert.deepEqual(got(), { 1: [], 2: ['-'], 3: [], 4: ['8100:10'] });
  send(4, ethFrame(BC, B, 20));
  assert.deepEqual(got(), { 1: [], 2: [], 3: ['-'], 4: [] }, 'VLAN 20 from the trunk reaches only the VLAN 20 access port, untagged');
  send(4, ethFrame(A, B, 10));
  assert.deepEqual(got(), { 1: ['-'], 2: [], 3: [], 4: [] }, 'A was learned on port 1 in VLAN 10');
});

test('frames a port may not take are dropped, with the reason OVS gives in the trace', () => {
  const { br, send, got } = setup({ 1: { tag: 10 }, 2: { trunks: [10, 20] }, 3: { tag: 5, vlanMode: 'dot1q-tunnel', cvlans: [7] }, 4: {} });
  send(1, ethFrame(BC, A, 20));
  send(2, ethFrame(BC, A, 30));
  send(2, ethFrame(BC, A));
  send(3, ethFrame(BC, A, 8));
  assert.deepEqual(got(), { 1: [], 2: [], 3: [], 4: [] });
  const t1 = trace(br, 'in_port=1,dl_vlan=20,dl_src=00:00:00:00:00:0a,dl_dst=ff:ff:ff:ff:ff:ff');
  assert.match(t1, />>>> dropping VLAN 20 tagged packet received on port p1 configured as VLAN 10 access port <<<<\n.*>> disallowed VLAN VID for this input port, dropping/);
  assert.match(trace(br, 'in_port=2,dl_vlan=30'), /dropping VLAN 30 packet received on port p2 not configured for trunking VLAN 30/);
  assert.match(trace(br, 'in_port=2'), /dropping VLAN 0 packet received on port p2 not configured for trunking VLAN 0/);
  assert.match(trace(br, 'in_port=3,dl_vlan=8'), /dropping VLAN 8 packet received on dot1q-tunnel port p3 that excludes this VLAN/);
  assert.match(trace(br, 'in_port=3,dl_vlan=8'), /Datapath actions: drop/);
});

test('native-untagged: untagged frames join the native VLAN and leave it untagged; other VLANs stay tagged', () => {
  const { send, got } = setup({ 1: { tag: 20, vlanMode: 'native-untagged', trunks: [10] }, 2: { trunks: [10, 20] }, 3: { tag: 10 } });
  send(1, ethFrame(BC, A));
  assert.deepEqual(got(), { 1: [], 2: ['8100:20'], 3: [] });
  send(2, ethFrame(BC, B, 20));
  send(2, ethFrame(BC, B, 10));
  assert.deepEqual(got(), { 1: ['-', '8100:10'], 2: [], 3: ['-'] });
  send(1, ethFrame(BC, A, 10));
  assert.deepEqual(got(), { 1: [], 2: ['8100:10'], 3: ['-'] });
});

test('native-tagged: the native VLAN goes out tagged too; VLAN 0 and the native VLAN are forced into trunks', () => {
  const { br, send, got } = setup({ 1: { tag: 10, vlanMode: 'native-tagged', trunks: [0, 30] }, 2: { tag: 10 } });
  send(2, ethFrame(BC, A));
  assert.deepEqual(got(), { 1: ['8100:10'], 2: [] });
  send(1, ethFrame(BC, B));
  assert.deepEqual(got(), { 1: [], 2: ['-'] }, 'untagged on the native port is VLAN 10');
  const v = br.ports.get(1)!.vlan!;
  assert.equal(v.trunks![10], 1);
  assert.equal(v.trunks![0], 0);
  assert.equal(v.trunks![30], 1);
});

test('dot1q-tunnel: customer frames get an 802.1ad outer tag on the trunk, lose it on the way back; qinq-ethtype=802.1q pushes 0x8100', () => {
  const { br, send, got } = setup({ 1: { tag: 100, vlanMode: 'dot1q-tunnel' }, 2: {}, 3: { tag: 200, vlanMode: 'dot1q-tunnel', qinqEthtype: '802.1q' } });
  send(1, ethFrame(BC, A, 7));
  assert.deepEqual(got(), { 1: [], 2: ['88a8:100/8100:7'], 3: [] }, 'the other tunnel is another service VLAN');
  send(1, ethFrame(BC, A));
  assert.deepEqual(got(), { 1: [], 2: ['88a8:100'], 3: [] });
  send(2, stacked(A, B, [[0x88a8, 100], [0x8100, 7]]));
  assert.deepEqual(got(), { 1: ['8100:7'], 2: [], 3: [] }, 'A was learned in service VLAN 100; the customer tag is kept');
  send(3, ethFrame(BC, B, 9));
  assert.deepEqual(got(), { 1: [], 2: ['8100:200/8100:9'], 3: [] });
  assert.match(trace(br, 'in_port=1,dl_vlan=7,dl_dst=ff:ff:ff:ff:ff:ff'), /Datapath actions: push_vlan\(tpid=0x88a8,vid=100,pcp=0\),2\n/);
});

test('priority-tags: an access port keeps the priority in a VID 0 tag when asked to', () => {
  const { send, got } = setup({ 1: { tag: 10, priorityTags: 'true' }, 2: { tag: 10 }, 3: { trunks: [10] } });
  const f = ethFrame(BC, A, 10);
  f[14] = (5 << 5) | f[14]!;
  send(3, f);
  assert.deepEqual(got(), { 1: ['8100:0p5'], 2: ['-'], 3: [] });
  send(3, ethFrame(BC, A, 10));
  assert.deepEqual(got(), { 1: ['-'], 2: ['-'], 3: [] }, 'priority 0: no tag at all');
});

test('the default mode: a tag makes an access port (trunks ignored, with a warning), no tag a trunk of every VLAN', () => {
  const a = resolvePortVlan('p1', { tag: 10, trunks: [1, 2] });
  assert.equal(a.vlan.mode, 'access');
  assert.equal(a.vlan.trunks, null);
  assert.deepEqual(a.warnings, ['port p1: ignoring trunks in favor of implicit vlan']);
  assert.deepEqual(resolvePortVlan('p2', {}).vlan, TRUNK_ALL);
  const bad = resolvePortVlan('p3', { vlanMode: 'bogus' });
  assert.equal(bad.vlan.mode, 'trunk');
  assert.match(bad.warnings[0]!, /unknown VLAN mode bogus, falling back to trunk mode/);
  assert.equal(resolvePortVlan('p4', { tag: 5, vlanMode: 'trunk' }).vlan.tag, -1);
});

test('flooding in a VLAN skips no-flood ports and the input port; a MAC learned in VLAN 10 is unknown in VLAN 20', () => {
  const { br, send, got } = setup({ 1: { trunks: [10, 20] }, 2: { trunks: [10, 20] }, 3: { tag: 10 }, 4: { tag: 20 } });
  br.ports.get(2)!.config = 16;
  send(1, ethFrame(BC, A, 10));
  assert.deepEqual(got(), { 1: [], 2: [], 3: ['-'], 4: [] });
  send(3, ethFrame(A, B));
  assert.deepEqual(got(), { 1: ['8100:10'], 2: [], 3: [], 4: [] });
  send(4, ethFrame(A, B));
  assert.deepEqual(got(), { 1: ['8100:20'], 2: [], 3: [], 4: [] }, 'flooded in VLAN 20: A is not known there');
});

test('a TCP flow under NORMAL: the megaflow has in_port, MACs and the VLAN, not the IP addresses or TCP ports', () => {
  const br = new FakeBridge('br0', [1, 2]);
  (br.ports.get(1) as { vlan?: unknown }).vlan = resolvePortVlan('p1', { tag: 10 }).vlan;
  br.addFlow('actions=NORMAL');
  const f = ipv4Frame(B, A, { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, sport: 1234, dport: 80 });
  const key = newFlowKey();
  extractFlow(f, f.length, 1, key);
  const res = translate({ bridge: br, mac: br.macLearning, flow: key, inPort: 1, trace: false, sideEffects: true, credit: null, packet: f });
  for (const n of ['tcp_src', 'tcp_dst', 'ip_src', 'ip_dst', 'nw_ttl', 'ip_tos']) assert.equal(getField(res.wc, n), 0n, `${n} is wildcarded`);
  for (const n of ['eth_src', 'eth_dst', 'in_port']) assert.notEqual(getField(res.wc, n), 0n, `${n} is matched`);
  assert.equal(res.odp.join(','), 'push_vlan(vid=10,pcp=0),2');
});

test('the translation lists every rule the packet matched, so a datapath can credit them later', () => {
  const br = new FakeBridge('br0', [1, 2]);
  const r0 = br.addFlow('table=0,in_port=1,actions=resubmit(,1),resubmit(,1)');
  const r1 = br.addFlow('table=1,actions=NORMAL');
  const key = newFlowKey();
  const f = ethFrame(BC, A);
  extractFlow(f, f.length, 1, key);
  const res = translate({ bridge: br, mac: br.macLearning, flow: key, inPort: 1, trace: false, sideEffects: false, credit: null, packet: f });
  assert.deepEqual(res.rules, [r0, r1, r1]);
  assert.equal(r0.packets, 0, 'no credit asked: counters untouched');
});

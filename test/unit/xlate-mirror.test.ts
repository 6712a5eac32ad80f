// Port mirrors with real frames: what an analyzer on the mirror port sees
// (received, sent, or both, per VLAN), that it sees each packet once and
// nothing else, RSPAN copies flooded in their VLAN, mirrors on OpenFlow
// output actions, snaplen, and the mirror counters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, resolvePortVlan, setMirrors, trace, type PortVlanConfig, type XlateMirror } from '../../src/xlate/index.js';
import { FakeBridge, ethFrame } from './xlate-fake.js';

const A = '00:00:00:00:00:0a';
const B = '00:00:00:00:00:0b';
const BC = 'ff:ff:ff:ff:ff:ff';

function mirror(m: Partial<XlateMirror> & { name: string }): XlateMirror {
  return { srcPorts: new Set(), dstPorts: new Set(), vlans: null, outPort: null, outVlan: null, packets: 0, bytes: 0, ...m };
}

function setup(ports: readonly number[], vlans: Readonly<Record<number, PortVlanConfig>> = {}, flow = 'actions=NORMAL') {
  const br = new FakeBridge('br0', ports);
  for (const [n, cfg] of Object.entries(vlans)) (br.ports.get(Number(n)) as { vlan?: unknown }).vlan = resolvePortVlan(`p${n}`, cfg).vlan;
  br.addFlow(flow);
  const pipe = new Pipeline({ now: () => br.clock });
  const send = (port: number, frame: Uint8Array) => pipe.receive(br, port, frame);
  const counts = (): number[] => ports.map((p) => br.take(p).length);
  return { br, send, counts };
}

test('select_src_port: the analyzer port gets one copy of what port 1 receives, no flooded traffic, and may not send', () => {
  const { br, send, counts } = setup([1, 2, 3, 9]);
  const m = mirror({ name: 'm', srcPorts: new Set([1]), outPort: 9 });
  setMirrors(br, [m]);
  send(1, ethFrame(BC, A));
  assert.deepEqual(counts(), [0, 1, 1, 1], 'flooded to 2 and 3, mirrored to 9');
  send(2, ethFrame(BC, B));
  assert.deepEqual(counts(), [1, 0, 1, 0], 'port 2 is not selected; the mirror port is not flooded to');
  send(9, ethFrame(BC, B));
  assert.deepEqual(counts(), [0, 0, 0, 0], 'frames from the mirror port are dropped');
  assert.match(trace(br, 'in_port=9,dl_dst=ff:ff:ff:ff:ff:ff', { packet: 'generate' }), /dropping packet received on port p9, which is reserved exclusively for mirroring/);
  assert.equal(m.packets, 1);
  assert.equal(m.bytes, ethFrame(BC, A).length);
});

test('select_dst_port: copies of what is sent on port 2 only; select_all: every packet once, however often it is selected', () => {
  const { br, send, counts } = setup([1, 2, 3, 9]);
  setMirrors(br, [mirror({ name: 'm', dstPorts: new Set([2]), outPort: 9 })]);
  send(1, ethFrame(BC, A));
  assert.deepEqual(counts(), [0, 1, 1, 1]);
  send(3, ethFrame(A, B));
  assert.deepEqual(counts(), [1, 0, 0, 0], 'to port 1 only: nothing sent on 2, no copy');
  setMirrors(br, [mirror({ name: 'all', srcPorts: new Set([1, 2, 3]), dstPorts: new Set([1, 2, 3]), outPort: 9 })]);
  send(2, ethFrame(BC, B));
  assert.deepEqual(counts(), [1, 0, 1, 1], 'received on 2 and sent on 1 and 3: one copy');
});

test('select_vlan: only VLAN 20 traffic is mirrored, and the copy carries the tag the mirror port\'s mode gives', () => {
  const { br, send } = setup([1, 2, 3, 9], { 1: { tag: 10 }, 2: { tag: 20 }, 3: { trunks: [10, 20] } });
  setMirrors(br, [mirror({ name: 'v20', srcPorts: new Set([1, 2, 3]), dstPorts: new Set([1, 2, 3]), vlans: new Set([20]), outPort: 9 })]);
  send(1, ethFrame(BC, A));
  assert.equal(br.take(9).length, 0);
  send(2, ethFrame(BC, B));
  const [copy] = br.take(9);
  assert.ok(copy);
  assert.deepEqual([...copy.subarray(12, 16)], [0x81, 0x00, 0x00, 20], 'the trunk-mode mirror port gets VLAN 20 tagged');
});

test('output_vlan (RSPAN): the copy is flooded in VLAN 99 to every port carrying it, except mirror outputs', () => {
  const { br, send, counts } = setup([1, 2, 3, 4], { 1: { tag: 10 }, 2: { tag: 10 }, 3: { trunks: [10, 99] }, 4: { tag: 99 } });
  setMirrors(br, [mirror({ name: 'rspan', srcPorts: new Set([1]), outVlan: 99 })]);
  send(1, ethFrame(BC, A));
  const sent = [1, 2, 3, 4].map((p) => br.take(p));
  assert.deepEqual(sent.map((s) => s.length), [0, 1, 2, 1], 'port 3 gets the VLAN 10 frame and the VLAN 99 copy');
  assert.deepEqual(sent[2]!.map((f) => f[15]).sort(), [10, 99]);
  assert.equal(sent[3]![0]![12], 0x88, 'the access port in VLAN 99 gets it untagged');
  send(2, ethFrame(BC, B));
  assert.deepEqual(counts(), [1, 0, 1, 0], 'port 2 is not selected');
});

test('mirrors apply to OpenFlow outputs too, with snaplen truncating the copies', () => {
  const { br, send } = setup([1, 2, 9], {}, 'in_port=1,actions=output:2');
  const m = mirror({ name: 'm', dstPorts: new Set([2]), outPort: 9, snaplen: 20 });
  setMirrors(br, [m]);
  send(1, ethFrame(B, A));
  assert.equal(br.take(2)[0]!.length, 60);
  const [copy] = br.take(9);
  assert.equal(copy!.length, 20);
  assert.match(trace(br, 'in_port=1'), /Datapath actions: 2,trunc\(20\),9\n/);
  send(2, ethFrame(B, A));
  assert.equal(br.take(9).length, 0, 'no flow for port 2: nothing sent, nothing mirrored');
});

test('two mirrors to the same port send one copy', () => {
  const { br, send } = setup([1, 2, 9]);
  setMirrors(br, [mirror({ name: 'a', srcPorts: new Set([1]), outPort: 9 }), mirror({ name: 'b', dstPorts: new Set([2]), outPort: 9 })]);
  send(1, ethFrame(BC, A));
  assert.equal(br.take(9).length, 1);
  assert.equal(br.take(2).length, 1);
});

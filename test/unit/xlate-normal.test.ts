// NORMAL: a learning switch per VLAN, as OVS's: learn sources, forward to
// the learned port, flood unknown and broadcast destinations (never back to
// the input port), age entries, and print the table as fdb/show does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MacLearning, Pipeline, fdbFlush, fdbShow } from '../../src/xlate/index.js';
import { FakeBridge, ethFrame } from './xlate-fake.js';

const A = '00:00:00:00:00:0a';
const B = '00:00:00:00:00:0b';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const LOCAL = 0xfffe;

function setup() {
  const br = new FakeBridge('br0', [1, 2, 3, LOCAL]);
  br.addFlow('actions=NORMAL');
  const pipe = new Pipeline({ now: () => br.clock });
  const send = (port: number, frame: Uint8Array) => pipe.receive(br, port, frame);
  const counts = () => [1, 2, 3, LOCAL].map((p) => br.take(p).length);
  return { br, send, counts };
}

test('an unknown destination floods to every other port; once learned, replies go only to the learned port', () => {
  const { br, send, counts } = setup();
  send(1, ethFrame(B, A));
  assert.deepEqual(counts(), [0, 1, 1, 1]);
  send(2, ethFrame(A, B));
  assert.deepEqual(counts(), [1, 0, 0, 0]);
  send(1, ethFrame(B, A));
  assert.deepEqual(counts(), [0, 1, 0, 0]);
  assert.equal(br.macLearning.lookup(0xan, 0), 1);
  assert.equal(br.macLearning.lookup(0xbn, 0), 2);
});

test('broadcast always floods, and a frame for a host on the input port is dropped', () => {
  const { send, counts } = setup();
  send(1, ethFrame(BCAST, A));
  assert.deepEqual(counts(), [0, 1, 1, 1]);
  send(2, ethFrame(BCAST, B));
  assert.deepEqual(counts(), [1, 0, 1, 1]);
  send(1, ethFrame(A, '00:00:00:00:00:0c'));
  assert.deepEqual(counts(), [0, 0, 0, 0], 'A is on port 1, the input port');
});

test('VLANs learn separately: a MAC learned in VLAN 10 is unknown in VLAN 20', () => {
  const { send, counts, br } = setup();
  send(1, ethFrame(BCAST, A, 10));
  counts();
  send(2, ethFrame(A, B, 10));
  assert.deepEqual(counts(), [1, 0, 0, 0]);
  send(2, ethFrame(A, B, 20));
  assert.deepEqual(counts(), [1, 0, 1, 1], 'flooded in VLAN 20');
  assert.equal(br.macLearning.lookup(0xan, 10), 1);
  assert.equal(br.macLearning.lookup(0xan, 20), undefined);
});

test('entries age out after the idle time (300 s by default, configurable)', () => {
  const { br, send, counts } = setup();
  send(1, ethFrame(BCAST, A));
  counts();
  br.clock += 299_000;
  send(2, ethFrame(A, B));
  assert.deepEqual(counts(), [1, 0, 0, 0]);
  br.clock += 301_000;
  send(3, ethFrame(A, B));
  assert.deepEqual(counts(), [1, 1, 0, 1], 'A expired: flooded again');
  br.macLearning.configure(20);
  assert.equal(br.macLearning.idleTime, 20);
  br.clock += 21_000;
  assert.equal(br.macLearning.lookup(0xbn, 0), undefined);
});

test('NO_FLOOD ports get no flooded copies; reserved multicast destinations are never forwarded', () => {
  const { br, send, counts } = setup();
  br.ports.get(3)!.config = 16;
  send(1, ethFrame(BCAST, A));
  assert.deepEqual(counts(), [0, 1, 0, 1]);
  send(1, ethFrame('01:80:c2:00:00:00', A));
  assert.deepEqual(counts(), [0, 0, 0, 0]);
});

test('fdb/show prints oldest first with ages, LOCAL by name; fdb/flush empties it', () => {
  const { br, send } = setup();
  send(2, ethFrame(BCAST, B));
  br.clock += 7_000;
  send(LOCAL, ethFrame(BCAST, A, 5));
  br.clock += 2_500;
  assert.equal(fdbShow(br), [
    ' port  VLAN  MAC                Age',
    '    2     0  00:00:00:00:00:0b    9',
    'LOCAL     5  00:00:00:00:00:0a    2',
    '',
  ].join('\n'));
  send(2, ethFrame(BCAST, B));
  assert.ok(fdbShow(br).endsWith('\n    2     0  00:00:00:00:00:0b    0\n'), 'relearning moves an entry to the end');
  fdbFlush(br);
  assert.equal(fdbShow(br), ' port  VLAN  MAC                Age\n');
});

test('the table keeps at most its size, dropping the least recently learned', () => {
  let now = 0;
  const t = new MacLearning({ maxEntries: 3, now: () => now });
  for (let i = 1n; i <= 4n; i++) {
    t.learn(i, 0, Number(i));
    now += 1000;
  }
  assert.equal(t.size, 3);
  assert.equal(t.lookup(1n, 0), undefined);
  assert.equal(t.lookup(4n, 0), 4);
  assert.equal(t.learn(0x010000000001n, 0, 1), false, 'multicast sources are not learned');
});

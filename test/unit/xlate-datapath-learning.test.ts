// What cached forwarding owes the OpenFlow side: once two hosts' flows are in
// the datapath, their packets no longer reach the translation, yet the MACs
// they learned must stay alive while they flow (OVS refreshes them from its
// xlate cache when flow statistics are pushed), and age out when they stop;
// and a flow deleted between two statistics pushes still credits its rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DatapathPipeline } from '../../src/xlate/index.js';
import { FakeBridge, ethFrame } from './xlate-fake.js';

const A = '50:54:00:00:00:0a';
const B = '50:54:00:00:00:0b';
const macNum = (s: string): bigint => BigInt(`0x${s.replace(/:/g, '')}`);

test('a cached flow\'s packets keep the MAC its translation learned alive; without packets it ages out', () => {
  const br = new FakeBridge('br0', [1, 2]);
  br.addFlow('actions=NORMAL');
  const dp = new DatapathPipeline();
  try {
    dp.portAdded(br, 1, br.ports.get(1)!.netdev);
    dp.portAdded(br, 2, br.ports.get(2)!.netdev);
    const both = (): void => {
      dp.receive(br, 1, ethFrame(B, A));
      dp.receive(br, 2, ethFrame(A, B));
    };
    both();
    both();
    assert.equal(br.macLearning.lookup(macNum(A), 0), 1);
    const upcalls = dp.dp.stats.missSuccess;
    // Four minutes of traffic from the cache (MAC aging is five), then the statistics push.
    br.clock += 240_000;
    for (let i = 0; i < 5; i++) both();
    assert.equal(dp.dp.stats.missSuccess, upcalls, 'the packets came from the megaflows');
    dp.pushStats();
    // Another four minutes: eight since the translation learned them, four since their last packets.
    br.clock += 240_000;
    assert.equal(br.macLearning.lookup(macNum(A), 0), 1, 'A is still known');
    assert.equal(br.macLearning.lookup(macNum(B), 0), 2, 'B is still known');
    // No packets now: after the aging time they go.
    br.clock += 301_000;
    dp.pushStats();
    assert.equal(br.macLearning.lookup(macNum(A), 0), undefined);
  } finally {
    dp.close();
  }
});

test('a megaflow deleted between two statistics pushes still credits its rule with its last packets', () => {
  const br = new FakeBridge('br0', [1, 2]);
  const rule = br.addFlow('in_port=1,actions=output:2');
  const dp = new DatapathPipeline();
  try {
    dp.portAdded(br, 1, br.ports.get(1)!.netdev);
    dp.portAdded(br, 2, br.ports.get(2)!.netdev);
    for (let i = 0; i < 4; i++) dp.receive(br, 1, ethFrame(B, A));
    assert.equal(br.take(2).length, 4);
    const before = rule.packets;
    dp.dp.flushFlows();
    dp.pushStats();
    assert.equal(rule.packets - before, 3, 'the three packets the megaflow forwarded (the upcalled one was counted by its translation)');
  } finally {
    dp.close();
  }
});

test('a flow that crosses a patch pair refreshes each bridge\'s own MAC table, not the first one\'s', () => {
  // br0: host on 1, patch on 3; br1: host on 1, patch on 2 (different numbers, so a mix-up shows).
  const br0 = new FakeBridge('br0', [1, 3]);
  const br1 = new FakeBridge('br1', []);
  br1.addPort(1, 'q1');
  br1.addPort(2, 'q2');
  br0.addFlow('actions=NORMAL');
  br1.addFlow('actions=NORMAL');
  Object.assign(br0.ports.get(3)!, { patchPeer: () => ({ bridge: br1, ofport: 2 }) });
  Object.assign(br1.ports.get(2)!, { patchPeer: () => ({ bridge: br0, ofport: 3 }) });
  const dp = new DatapathPipeline();
  try {
    dp.portAdded(br0, 1, br0.ports.get(1)!.netdev);
    dp.portAdded(br1, 1, br1.ports.get(1)!.netdev);
    for (let i = 0; i < 4; i++) {
      dp.receive(br0, 1, ethFrame(B, A));
      dp.receive(br1, 1, ethFrame(A, B));
    }
    assert.ok(br1.take(1).length > 0 && br0.take(1).length > 0, 'the hosts reach each other through the patch pair');
    dp.pushStats();
    assert.equal(br0.macLearning.lookup(macNum(A), 0), 1);
    assert.equal(br0.macLearning.lookup(macNum(B), 0), 3);
    assert.equal(br1.macLearning.lookup(macNum(A), 0), 2);
    assert.equal(br1.macLearning.lookup(macNum(B), 0), 1);
  } finally {
    dp.close();
  }
});

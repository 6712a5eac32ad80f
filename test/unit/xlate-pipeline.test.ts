// Packets through a bridge's OpenFlow pipeline, executed for real: what comes
// out of which port, byte for byte, and what reaches the controllers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActionList } from '../../src/openflow/index.js';
import { Pipeline } from '../../src/xlate/index.js';
import { FakeBridge, checksumsValid, ethFrame, ipv4Frame } from './xlate-fake.js';

const H1 = '00:00:00:00:00:01';
const H2 = '00:00:00:00:00:02';
const LOCAL = 0xfffe;

function setup(ports: readonly number[] = [1, 2, 3]) {
  const br = new FakeBridge('br0', ports);
  const pipe = new Pipeline({ now: () => br.clock });
  const send = (port: number, frame: Uint8Array) => pipe.receive(br, port, frame);
  return { br, pipe, send };
}

const tcp = (over: Partial<Parameters<typeof ipv4Frame>[2]> = {}) =>
  ipv4Frame(H2, H1, { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, ttl: 64, ...over });

test('a flow outputs the frame to its port unchanged and counts the packet', () => {
  const { br, send } = setup();
  const rule = br.addFlow('in_port=1,actions=output:2');
  const f = tcp();
  send(1, f);
  assert.deepEqual(br.take(2), [f]);
  assert.deepEqual(br.take(3), []);
  assert.equal(rule.packets, 1);
  assert.equal(rule.bytes, f.length);
  assert.equal(rule.used, br.clock);
  assert.equal(br.tables[0]!.lookups, 1);
  assert.equal(br.tables[0]!.matches, 1);
  send(2, f);
  assert.equal(br.tables[0]!.lookups, 2);
  assert.equal(br.tables[0]!.matches, 1, 'a miss is a lookup without a match');
});

test('set-field actions rewrite the headers on the way out and keep the checksums right', () => {
  const { br, send } = setup();
  br.addFlow('ip,actions=mod_dl_src:00:00:00:00:00:aa,mod_nw_dst:10.0.0.9,dec_ttl,mod_tp_dst:8080,output:2,output:3');
  send(1, tcp());
  const [out] = br.take(2);
  assert.ok(out);
  assert.deepEqual([...out.subarray(6, 12)], [0, 0, 0, 0, 0, 0xaa]);
  assert.deepEqual([...out.subarray(30, 34)], [10, 0, 0, 9]);
  assert.equal(out[22], 63, 'ttl decremented');
  assert.equal((out[36]! << 8) | out[37]!, 8080);
  assert.ok(checksumsValid(out), 'IPv4 and TCP checksums updated');
  assert.deepEqual(br.take(3), [out], 'both outputs see the same packet');
});

test('push_vlan and strip_vlan: the tagged copy and the untagged copy leave on different ports', () => {
  const { br, send } = setup();
  br.addFlow('in_port=1,actions=push_vlan:0x8100,mod_vlan_vid:100,mod_vlan_pcp:5,output:2,strip_vlan,output:3');
  const f = tcp();
  send(1, f);
  const [tagged] = br.take(2);
  assert.ok(tagged);
  assert.equal(tagged.length, f.length + 4);
  assert.deepEqual([...tagged.subarray(12, 16)], [0x81, 0x00, 0xa0, 100]);
  assert.deepEqual([...tagged.subarray(16)], [...f.subarray(12)]);
  assert.deepEqual(br.take(3), [f]);
});

test('reserved ports: IN_PORT returns, FLOOD skips NO_FLOOD ports and the input, ALL does not, output to the input port is skipped', () => {
  const { br, send } = setup([1, 2, 3, LOCAL]);
  br.ports.get(3)!.config = 16; // NO_FLOOD
  br.addFlow('in_port=1,actions=output:1');
  br.addFlow('in_port=2,actions=IN_PORT');
  br.addFlow('in_port=3,actions=FLOOD');
  br.addFlow(`in_port=${LOCAL},actions=ALL`);
  const f = tcp();
  send(1, f);
  assert.deepEqual([1, 2, 3, LOCAL].map((p) => br.take(p).length), [0, 0, 0, 0]);
  send(2, f);
  assert.deepEqual([1, 2, 3, LOCAL].map((p) => br.take(p).length), [0, 1, 0, 0]);
  send(3, f);
  assert.deepEqual([1, 2, 3, LOCAL].map((p) => br.take(p).length), [1, 1, 0, 1]);
  send(LOCAL, f);
  assert.deepEqual([1, 2, 3, LOCAL].map((p) => br.take(p).length), [1, 1, 1, 0]);
});

test('port config: NO_RECV drops input, NO_FWD skips output, PORT_DOWN leaves output to the device as in OVS', () => {
  const { br, send } = setup();
  br.addFlow('actions=output:2,output:3');
  br.ports.get(1)!.config = 4;
  send(1, tcp());
  assert.deepEqual([br.take(2).length, br.take(3).length], [0, 0]);
  br.ports.get(1)!.config = 0;
  br.ports.get(2)!.config = 32;
  br.ports.get(3)!.config = 1;
  send(1, tcp());
  // (A real port that is down drops the frame itself; this fake one has no link state.)
  assert.deepEqual([br.take(2).length, br.take(3).length], [0, 1]);
  br.ports.get(2)!.config = 0;
  send(1, tcp());
  assert.deepEqual([br.take(2).length, br.take(3).length], [1, 1]);
});

test('CONTROLLER sends a packet-in with the modified frame and the pipeline metadata', () => {
  const { br, send } = setup();
  br.addFlow('cookie=0x77,in_port=1,actions=load:0x5->NXM_NX_REG3[],write_metadata:0x9,mod_dl_dst:00:00:00:00:00:99,CONTROLLER:128');
  send(1, tcp());
  assert.equal(br.packetIns.length, 1);
  const pin = br.packetIns[0]!;
  assert.equal(pin.reason, 'action');
  assert.ok(!pin.explicitMiss);
  assert.equal(pin.maxLen, 128);
  assert.equal(pin.cookie, 0x77n);
  assert.equal(pin.tableId, 0);
  assert.deepEqual([...pin.frame.subarray(0, 6)], [0, 0, 0, 0, 0, 0x99]);
  assert.equal(pin.metadata.in_port?.value, 1n);
  assert.equal(pin.metadata.reg3?.value, 5n);
  assert.equal(pin.metadata.metadata?.value, 9n);
  br.addFlow('in_port=2,actions=controller(reason=no_match,id=7,max_len=64)');
  send(2, tcp());
  assert.equal(br.packetIns[1]!.reason, 'no_match');
  assert.equal(br.packetIns[1]!.controllerId, 7);
});

test('table misses: a priority-0 catch-all to CONTROLLER is an explicit miss; no flow means an implicit one only when a controller wants it', () => {
  const { br, send } = setup();
  send(1, tcp());
  assert.equal(br.packetIns.length, 0, 'OpenFlow 1.3 semantics: a miss drops');
  br.wantsMiss = true;
  send(1, tcp());
  assert.equal(br.packetIns.length, 1);
  assert.equal(br.packetIns[0]!.reason, 'no_match');
  assert.ok(!br.packetIns[0]!.explicitMiss);
  assert.equal(br.packetIns[0]!.maxLen, 0xffff);
  br.ports.get(1)!.config = 64; // NO_PACKET_IN
  send(1, tcp());
  assert.equal(br.packetIns.length, 1, 'NO_PACKET_IN on the input port stops the miss packet-in');
  br.ports.get(1)!.config = 0;
  br.addFlow('priority=0,actions=CONTROLLER:65535');
  send(1, tcp());
  assert.equal(br.packetIns.length, 2);
  assert.equal(br.packetIns[1]!.reason, 'no_match');
  assert.equal(br.packetIns[1]!.explicitMiss, true);
});

test('dec_ttl at TTL 1 sends invalid_ttl packet-ins to the listed controller ids and stops the flow', () => {
  const { br, send } = setup();
  br.addFlow('ip,actions=dec_ttl(4,5),output:2');
  br.addFlow('priority=40000,udp,actions=dec_ttl,output:3');
  send(1, tcp({ ttl: 1 }));
  assert.deepEqual(br.packetIns.map((p) => [p.reason, p.controllerId]), [['invalid_ttl', 4], ['invalid_ttl', 5]]);
  assert.equal(br.take(2).length, 0);
  send(1, ipv4Frame(H2, H1, { src: '10.0.0.1', dst: '10.0.0.2', proto: 17, ttl: 1 }));
  assert.deepEqual(br.packetIns.slice(2).map((p) => [p.reason, p.controllerId]), [['invalid_ttl', 0]]);
  send(1, tcp({ ttl: 2 }));
  const [out] = br.take(2);
  assert.equal(out?.[22], 1);
  assert.ok(checksumsValid(out!));
});

test('a resubmit loop stops at depth 64 and the packet is dropped, even what was output before', () => {
  const { br, pipe, send } = setup();
  br.addFlow('table=0,actions=output:3,resubmit(,1)');
  br.addFlow('table=1,actions=resubmit(,0)');
  send(1, tcp());
  assert.equal(br.take(3).length, 0);
  assert.equal(pipe.stats.failed, 1);
});

test('resubmit to another port and table, and a resubmit miss just returns', () => {
  const { br, send } = setup();
  br.addFlow('table=0,in_port=1,actions=resubmit(2,1),resubmit(,7),output:3');
  br.addFlow('table=1,in_port=2,actions=mod_dl_dst:00:00:00:00:00:22,output:2');
  send(1, tcp());
  const [a] = br.take(2);
  assert.deepEqual([...a!.subarray(0, 6)], [0, 0, 0, 0, 0, 0x22]);
  const [b] = br.take(3);
  assert.deepEqual([...b!.subarray(0, 6)], [0, 0, 0, 0, 0, 0x22], 'changes made in a resubmitted table stay');
  assert.equal(br.packetIns.length, 0);
});

test('goto_table with write_actions: the action set runs at the end, later writes replace earlier ones, clear_actions empties it', () => {
  const { br, send } = setup();
  br.addFlow('table=0,in_port=1,actions=write_actions(output:3),write_metadata:0x5/0xff,goto_table:2');
  br.addFlow('table=2,metadata=0x5,actions=write_actions(mod_dl_dst:00:00:00:00:00:01,output:2)');
  br.addFlow('table=0,in_port=2,actions=write_actions(output:3),goto_table:3');
  br.addFlow('table=3,actions=clear_actions,output:1');
  send(1, tcp());
  const [out] = br.take(2);
  assert.deepEqual([...out!.subarray(0, 6)], [0, 0, 0, 0, 0, 1]);
  assert.equal(br.take(3).length, 0);
  send(2, tcp());
  assert.equal(br.take(3).length, 0);
  assert.equal(br.take(1).length, 1);
});

test('an action set keeps the last output, prefers a group, and runs nothing when it sends nothing', () => {
  const { br, send } = setup();
  br.addGroup('group_id=5,type=indirect,bucket=output:1');
  br.addFlow('table=0,in_port=1,actions=write_actions(output:2,output:3)');
  br.addFlow('table=0,in_port=2,actions=write_actions(output:3,group:5)');
  br.addFlow('table=0,in_port=3,actions=write_actions(controller(reason=action_set),mod_dl_dst:00:00:00:00:00:01)');
  send(1, tcp());
  assert.deepEqual([1, 2, 3].map((p) => br.take(p).length), [0, 0, 1]);
  send(2, tcp());
  assert.deepEqual([1, 2, 3].map((p) => br.take(p).length), [1, 0, 0]);
  send(3, tcp());
  assert.deepEqual([1, 2, 3].map((p) => br.take(p).length), [0, 0, 0]);
  assert.equal(br.packetIns.length, 0, 'an explicit controller action is not part of an action set');
});

test('groups: all copies per bucket, indirect, select by flow hash, fast failover follows liveness; groups count', () => {
  const { br, send } = setup();
  br.addGroup('group_id=1,type=all,bucket=output:2,bucket=mod_dl_dst:00:00:00:00:00:07,output:3');
  br.addGroup('group_id=2,type=select,bucket=output:2,bucket=output:3');
  br.addGroup('group_id=3,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3');
  br.addGroup('group_id=4,type=indirect,bucket=output:3');
  br.addFlow('in_port=1,tcp,tp_src=1,actions=group:1,output:2');
  br.addFlow('in_port=1,tcp,tp_src=2,actions=group:3');
  br.addFlow('in_port=1,tcp,tp_src=3,actions=group:4');
  br.addFlow('priority=1,in_port=1,actions=group:2');
  const f = tcp({ sport: 1 });
  send(1, f);
  const two = br.take(2);
  const [three] = br.take(3);
  assert.deepEqual(two, [f, f], 'the second bucket changed its own copy only');
  assert.deepEqual([...three!.subarray(0, 6)], [0, 0, 0, 0, 0, 7]);
  assert.equal(br.groups.get(1)!.packets, 1);
  assert.equal(br.groups.get(1)!.buckets[1]!.packets, 1);

  send(1, tcp({ sport: 2 }));
  assert.deepEqual([br.take(2).length, br.take(3).length], [1, 0]);
  br.ports.get(2)!.netdev.setAdminUp(false);
  send(1, tcp({ sport: 2 }));
  assert.deepEqual([br.take(2).length, br.take(3).length], [0, 1], 'port 2 down: the next live bucket');
  br.ports.get(2)!.netdev.setAdminUp(true);

  send(1, tcp({ sport: 3 }));
  assert.deepEqual([br.take(2).length, br.take(3).length], [0, 1]);

  const seen = new Set<number>();
  for (let sport = 100; sport < 140; sport++) {
    for (let i = 0; i < 2; i++) send(1, tcp({ sport }));
    const a = br.take(2).length;
    const b = br.take(3).length;
    assert.ok((a === 2 && b === 0) || (a === 0 && b === 2), 'the same flow always takes the same bucket');
    seen.add(a ? 2 : 3);
  }
  assert.deepEqual([...seen].sort(), [2, 3], 'different flows spread over the buckets');
});

test('a meter drops packets over its rate and lets them through again once the bucket refills', () => {
  const { br, pipe, send } = setup();
  br.addMeter('meter=1,pktps,burst,bands=type=drop,rate=1,burst_size=2');
  br.addFlow('in_port=1,actions=meter:1,output:2');
  for (let i = 0; i < 6; i++) send(1, tcp());
  const passed = br.take(2).length;
  assert.ok(passed >= 1 && passed < 6, `some pass, the rest are dropped (${passed} passed)`);
  assert.equal(pipe.stats.meterDropped, 6 - passed);
  br.clock += 5000;
  send(1, tcp());
  assert.equal(br.take(2).length, 1);
});

test('clone runs its actions on a copy; exit stops the rest of the pipeline', () => {
  const { br, send } = setup();
  br.addFlow('in_port=1,actions=clone(mod_dl_dst:00:00:00:00:00:05,output:2),output:3,exit,output:2');
  const f = tcp();
  send(1, f);
  const [c] = br.take(2);
  assert.deepEqual([...c!.subarray(0, 6)], [0, 0, 0, 0, 0, 5]);
  assert.deepEqual(br.take(3), [f]);
  assert.equal(br.take(2).length, 0);
});

test('move, load and output_reg: the output port comes from a register', () => {
  const { br, send } = setup();
  br.addFlow('in_port=1,actions=load:0x3->NXM_NX_REG0[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:NXM_NX_REG0[0..15]');
  send(1, tcp());
  const [out] = br.take(3);
  assert.deepEqual([...out!.subarray(0, 6)], [0, 0, 0, 0, 0, 1]);
});

test('bundle picks a live member by hash; multipath writes a link number', () => {
  const { br, send } = setup();
  br.addFlow('in_port=1,actions=bundle(eth_src,0,hrw,ofport,members:2,3)');
  br.addFlow('in_port=2,actions=multipath(symmetric_l4,0,modulo_n,2,0,NXM_NX_REG1[0..1]),resubmit(,1)');
  br.addFlow('table=1,reg1=0,actions=output:1');
  br.addFlow('table=1,reg1=1,actions=output:3');
  send(1, tcp());
  const first = br.take(2).length ? 2 : (br.take(3).length ? 3 : 0);
  assert.ok(first === 2 || first === 3);
  br.ports.get(first)!.netdev.setAdminUp(false);
  send(1, tcp());
  assert.equal(br.take(first === 2 ? 3 : 2).length, 1, 'the other member once the first is down');
  for (let sport = 1; sport < 10; sport++) send(2, tcp({ sport }));
  assert.equal(br.take(1).length + br.take(3).length, 9);
});

test('learn adds a flow that sends replies back to where the learned host is', () => {
  const { br, send } = setup();
  br.addFlow('table=0,actions=learn(table=1,idle_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,1)');
  br.addFlow('table=1,priority=0,actions=FLOOD');
  send(1, ethFrame(H2, H1));
  assert.deepEqual(br.learned, ['table=1,priority=32768,idle_timeout=60,eth_dst=00:00:00:00:00:01,actions=output:1']);
  br.take(2);
  br.take(3);
  send(2, ethFrame(H1, H2));
  assert.deepEqual([br.take(1).length, br.take(3).length], [1, 0]);
});

test('ct is not supported: the packet is dropped and counted', () => {
  const { br, pipe, send } = setup();
  br.addFlow('ip,actions=output:3,ct(commit),output:2');
  send(1, tcp());
  assert.deepEqual([br.take(2).length, br.take(3).length], [0, 0]);
  assert.equal(pipe.stats.ctDropped, 1);
});

test('push_mpls puts a label in front of the IP header and pop_mpls takes it away again', () => {
  const { br, send } = setup();
  br.addFlow('in_port=1,ip,actions=push_mpls:0x8847,set_mpls_label:10,output:2');
  br.addFlow('in_port=2,mpls,actions=pop_mpls:0x0800,output:3');
  const f = tcp({ ttl: 9 });
  send(1, f);
  const [m] = br.take(2);
  assert.ok(m);
  assert.equal(m.length, f.length + 4);
  assert.deepEqual([...m.subarray(12, 18)], [0x88, 0x47, 0x00, 0x00, 0xa1, 9], 'label 10, bos, ttl from the IP header');
  send(2, m);
  assert.deepEqual(br.take(3), [f]);
});

test('packet-out: actions run on the frame; TABLE goes through the tables; CONTROLLER reports packet_out', () => {
  const { br, pipe } = setup();
  br.addFlow('in_port=1,actions=output:3');
  const f = tcp();
  pipe.packetOut(br, 1, f, parseActionList('output:TABLE'), {});
  assert.deepEqual(br.take(3), [f]);
  pipe.packetOut(br, 0xfffd, f, parseActionList('output:2,CONTROLLER:64'), {});
  assert.deepEqual(br.take(2), [f]);
  assert.equal(br.packetIns[0]!.reason, 'packet_out');
});

test('fail-open: with no controller reachable the bridge switches as NORMAL before table 0', () => {
  const { br, send } = setup();
  br.failOpen = true;
  br.addFlow('actions=drop');
  send(1, ethFrame(H2, H1));
  assert.deepEqual([br.take(2).length, br.take(3).length], [1, 1]);
});

// The pipeline wired into a real Ofproto as its PacketPipeline: frames
// injected on dummy ports go through flows added with flow_mods and come out
// of other dummy ports; the switch's rule and table counters move.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../../src/openflow/index.js';
import { Ofproto, type OfFlowMod, type PacketInInfo } from '../../src/ofproto/index.js';
import { DummyNetdev } from '../../src/netdev/index.js';
import { Pipeline, fdbShow, type XlateBridge } from '../../src/xlate/index.js';
import { ethFrame, ipv4Frame } from './xlate-fake.js';

/** Ofproto is an XlateBridge: this does not compile when the two drift apart. */
const asBridge = (o: Ofproto): XlateBridge => o;

function flowMod(text: string): OfFlowMod {
  const f = parseFlow(text);
  return {
    command: 'add', match: f.match, priority: f.priority, tableId: f.table === 255 ? 0 : f.table, cookie: 0n, cookieMask: 0n,
    newCookie: f.cookie, idleTimeout: 0, hardTimeout: 0, importance: 0, flags: 0, bufferId: 0xffffffff, outPort: 0xffff,
    outGroup: 0xffffffff, actions: f.actions, version: 4,
  };
}

function setup() {
  const rundir = mkdtempSync(join(tmpdir(), 'tsw-xlate-'));
  const pipeline = new Pipeline();
  const of = new Ofproto({ name: 'br0', datapathId: 1n, rundir, pipeline });
  const devs = new Map<number, DummyNetdev>();
  const sent = new Map<number, Uint8Array[]>();
  for (const n of [1, 2, 3]) {
    const d = new DummyNetdev(`xp${n}`, 'dummy');
    const out: Uint8Array[] = [];
    d.tapTransmit((f) => out.push(Uint8Array.from(f)));
    devs.set(n, d);
    sent.set(n, out);
    of.addPort(n, `xp${n}`, d);
  }
  const pins: PacketInInfo[] = [];
  of.connmgr.sendPacketIn = (p: PacketInInfo) => { pins.push(p); };
  const take = (n: number) => sent.get(n)!.splice(0);
  return { of, devs, take, pins, pipeline, done: () => rmSync(rundir, { recursive: true, force: true }) };
}

test('frames received on an Ofproto port run through its flows and leave on the output port', () => {
  const { of, devs, take, done } = setup();
  try {
    assert.equal(asBridge(of).name, 'br0');
    of.flowMod(flowMod('in_port=1,ip,actions=mod_nw_dst:10.9.9.9,output:3'));
    const f = ipv4Frame('00:00:00:00:00:02', '00:00:00:00:00:01', { src: '10.0.0.1', dst: '10.0.0.2', proto: 17 });
    devs.get(1)!.receive(f);
    const [out] = take(3);
    assert.ok(out);
    assert.deepEqual([...out.subarray(30, 34)], [10, 9, 9, 9]);
    const rule = [...of.tables[0]!.cls][0]!;
    assert.equal(rule.packets, 1);
    assert.equal(of.tables[0]!.lookups, 1);
    assert.equal(of.tables[0]!.matches, 1);
  } finally {
    done();
  }
});

test('with no controller in standalone mode the Ofproto switches with its NORMAL flow and learns', () => {
  const { of, devs, take, done } = setup();
  try {
    of.flushFlows();
    devs.get(1)!.receive(ethFrame('ff:ff:ff:ff:ff:ff', '00:00:00:00:00:0a'));
    assert.deepEqual([take(2).length, take(3).length], [1, 1]);
    devs.get(2)!.receive(ethFrame('00:00:00:00:00:0a', '00:00:00:00:00:0b'));
    assert.deepEqual([take(1).length, take(3).length], [1, 0]);
    assert.match(fdbShow(of), /\n {4}1 {5}0 {2}00:00:00:00:00:0a/);
  } finally {
    done();
  }
});

test('an Ofproto CONTROLLER action reaches its connection manager as a packet-in', () => {
  const { of, devs, pins, done } = setup();
  try {
    of.flowMod(flowMod('in_port=2,actions=CONTROLLER:100'));
    devs.get(2)!.receive(ethFrame('00:00:00:00:00:0a', '00:00:00:00:00:0b'));
    assert.equal(pins.length, 1);
    assert.equal(pins[0]!.reason, 'action');
    assert.equal(pins[0]!.metadata.in_port?.value, 2n);
  } finally {
    done();
  }
});

// The datapath's unixctl texts against what ovs-vswitchd 3.1 printed for the
// same flows (datapath_type=netdev, --enable-dummy=override; OpenFlow rules
// in the comments), byte counts being those of this test's frames.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getField } from '../../src/flow/index.js';
import {
  formatDpctlDumpFlows, formatDpctlShow, formatDpifDumpFlows, formatDpifShow, formatOdpKey, formatPmdStats,
  formatUpcallShow, type DpAction, type UpcallResult,
} from '../../src/dpif/index.js';
import { buildFrame, macBytes, maskOf, rig, setAction } from './dpif-helpers.js';

const out = (port: number): DpAction => ({ type: 'output', port });

function arpFrame(): Uint8Array {
  return Uint8Array.from([...macBytes('ff:ff:ff:ff:ff:ff'), ...macBytes('50:54:00:00:00:01'), 0x08, 0x06,
    0, 1, 0x08, 0, 6, 4, 0, 1, ...macBytes('50:54:00:00:00:01'), 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
}

function ipv6Frame(): Uint8Array {
  const b = [...macBytes('50:54:00:00:00:02'), ...macBytes('50:54:00:00:00:01'), 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64];
  for (const last of [1, 2]) b.push(0x20, 0x01, ...new Array<number>(13).fill(0), last);
  b.push(0, 1, 0, 2, 0, 8, 0, 0);
  return Uint8Array.from(b);
}

const CONTROLLER = 'controller(reason=1,dont_send=0,continuation=0,recirc_id=1,rule_cookie=0,controller_id=0,max_len=65535)';

/**
 * The OVS scenario's rules as a translator:
 *   in_port=1,ip,nw_dst=10.0.0.2 actions=mod_dl_src:00:00:00:00:00:aa,output:2
 *   in_port=2 actions=mod_vlan_vid:10,output:1,output:3
 *   in_port=3,dl_vlan=10 actions=strip_vlan,output:1
 *   in_port=1,arp actions=controller
 *   in_port=1,tcp,tp_dst=80 actions=mod_nw_dst:1.2.3.4,mod_tp_dst:8080,output:2
 *   in_port=1,ipv6 actions=drop
 */
function scenario(inPort: number, key: Uint32Array): UpcallResult {
  const type = Number(getField(key, 'eth_type'));
  if (inPort === 2) return { actions: [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | 10 }, out(1), out(3)], mask: maskOf('in_port', 'eth_type') };
  if (inPort === 3) return { actions: [{ type: 'pop_vlan' }, out(1)], mask: maskOf('in_port', 'vlan_tci', 'eth_type') };
  if (type === 0x806) return { actions: [{ type: 'userspace', pid: 0, cookie: 1, userdata: CONTROLLER }], mask: maskOf('in_port', 'eth_type') };
  if (type === 0x86dd) return { actions: [], mask: maskOf('in_port', 'eth_type') };
  if (getField(key, 'nw_proto') === 6n) {
    return { actions: [setAction({ ip_dst: 0x01020304n, tcp_dst: 8080n }), out(2)], mask: maskOf('in_port', 'eth_type', 'ip_dst', 'nw_proto', 'tcp_dst') };
  }
  return { actions: [setAction({ eth_src: 0xaan }), out(2)], mask: maskOf('in_port', 'eth_src', 'eth_type', 'ip_dst') };
}

function runScenario(): { r: ReturnType<typeof rig>; now: { t: number }; udpLen: number } {
  const now = { t: 5000 };
  const r = rig(3, scenario, { clock: () => now.t, localPortType: 'dummy-internal' });
  r.dp.addPort('br0', 'dummy-internal', null);
  const udp = buildFrame({ sport: 1000, dport: 2000 });
  r.inject(1, [udp]);
  r.inject(1, [buildFrame({ sport: 1001, dport: 2000 })]);
  r.inject(1, [buildFrame({ ipDst: '10.0.0.9', proto: 6, sport: 1000, dport: 80 })]);
  r.inject(2, [buildFrame({ src: '50:54:00:00:00:02', dst: '50:54:00:00:00:01', ipSrc: '10.0.0.2', ipDst: '10.0.0.1', proto: 1 })]);
  r.inject(3, [buildFrame({ src: '50:54:00:00:00:03', dst: '50:54:00:00:00:01', ipSrc: '10.0.0.3', ipDst: '10.0.0.1', proto: 1, vlans: [[0x8100, 10]] })]);
  r.inject(1, [arpFrame()]);
  r.inject(1, [ipv6Frame()]);
  now.t += 52;
  return { r, now, udpLen: udp.length };
}

const sorted = (text: string): string[] => text.split('\n').filter((l) => l !== '').sort();

test('dpctl/dump-flows and dpif/dump-flows print the megaflows as ovs-vswitchd does', () => {
  const { r, now, udpLen } = runScenario();
  const want = [
    `recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01),eth_type(0x0800),ipv4(dst=10.0.0.2,frag=no), packets:1, bytes:${udpLen}, used:0.052s, actions:set(eth(src=00:00:00:00:00:aa)),2`,
    'recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:push_vlan(vid=10,pcp=0),1,3',
    'recirc_id(0),in_port(3),packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(frag=no)), packets:0, bytes:0, used:never, actions:pop_vlan,1',
    `recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0806), packets:0, bytes:0, used:never, actions:userspace(pid=0,${CONTROLLER})`,
    'recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(frag=no), packets:0, bytes:0, used:never, actions:drop',
    'recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(dst=10.0.0.9,proto=6,frag=no),tcp(dst=80), packets:0, bytes:0, used:never, actions:set(ipv4(dst=1.2.3.4)),set(tcp(dst=8080)),2',
  ];
  const dpctl = formatDpctlDumpFlows([{ coreId: null, flows: r.dp.flows() }], { now: now.t });
  assert.ok(dpctl.startsWith('flow-dump from the main thread:\n'));
  assert.deepEqual(sorted(dpctl.slice(dpctl.indexOf('\n') + 1)), [...want].sort());
  assert.deepEqual(sorted(formatDpifDumpFlows(r.dp.flows(), { now: now.t })), [...want].sort());
});

test('dpctl/dump-flows heads each thread\'s flows and prints nothing for a thread without flows, as OVS does', () => {
  const { r, now } = runScenario();
  const [first] = r.dp.flows();
  const text = formatDpctlDumpFlows([{ coreId: 1, flows: [first!] }, { coreId: 2, flows: [] }, { coreId: null, flows: [] }], { now: now.t });
  const lines = text.split('\n');
  assert.equal(lines[0], 'flow-dump from pmd on cpu core: 1');
  assert.equal(lines.length, 3);
  assert.equal(formatDpctlDumpFlows([{ coreId: null, flows: [] }], { now: now.t }), '');
});

test('dpctl/dump-flows -m shows every attribute with its mask, port names and dp:ovs', () => {
  const { r, now, udpLen } = runScenario();
  const names = new Map([...r.dp.ports.values()].map((p) => [p.no, p.name]));
  const text = formatDpctlDumpFlows([{ coreId: null, flows: r.dp.flows() }], { now: now.t, verbose: true, names });
  const lines = text.split('\n').slice(1, -1);
  assert.equal(lines.length, 6);
  for (const l of lines) assert.match(l, /^ufid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, skb_priority\(0\/0\),/);
  const body = lines.map((l) => l.slice(l.indexOf(', ') + 2));
  const pre = 'skb_priority(0/0),skb_mark(0/0),ct_state(0/0),ct_zone(0/0),ct_mark(0/0),ct_label(0/0),recirc_id(0),dp_hash(0/0),';
  assert.ok(body.includes(`${pre}in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02/00:00:00:00:00:00),eth_type(0x0800),ipv4(src=10.0.0.1/0.0.0.0,dst=10.0.0.2,proto=17/0,tos=0/0,ttl=64/0,frag=no),udp(src=1000/0,dst=2000/0), packets:1, bytes:${udpLen}, used:0.052s, dp:ovs, actions:set(eth(src=00:00:00:00:00:aa)),p2`), body.join('\n'));
  assert.ok(body.includes(`${pre}in_port(p3),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:03/00:00:00:00:00:00,dst=50:54:00:00:00:01/00:00:00:00:00:00),eth_type(0x8100),vlan(vid=10,pcp=0),encap(eth_type(0x0800),ipv4(src=10.0.0.3/0.0.0.0,dst=10.0.0.1/0.0.0.0,proto=1/0,tos=0/0,ttl=64/0,frag=no),icmp(type=8/0,code=0/0)), packets:0, bytes:0, used:never, dp:ovs, actions:pop_vlan,p1`));
  assert.ok(body.includes(`${pre}in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01/00:00:00:00:00:00,dst=50:54:00:00:00:02/00:00:00:00:00:00),eth_type(0x86dd),ipv6(src=2001::1/::,dst=2001::2/::,label=0/0,proto=17/0,tclass=0/0,hlimit=64/0,frag=no),udp(src=1/0,dst=2/0), packets:0, bytes:0, used:never, dp:ovs, actions:drop`));
  assert.ok(body.includes(`${pre}in_port(p1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01/00:00:00:00:00:00,dst=ff:ff:ff:ff:ff:ff/00:00:00:00:00:00),eth_type(0x0806),arp(sip=10.0.0.1/0.0.0.0,tip=10.0.0.2/0.0.0.0,op=1/0,sha=50:54:00:00:00:01/00:00:00:00:00:00,tha=00:00:00:00:00:00/00:00:00:00:00:00), packets:0, bytes:0, used:never, dp:ovs, actions:userspace(pid=0,${CONTROLLER})`));
});

test('partial masks print as value/mask, TCP flags as OVS names them', () => {
  const r = rig(2, () => ({ actions: [out(2)], mask: maskOf('in_port', 'eth_type', 'nw_proto', 'tcp_flags') }));
  r.inject(1, [buildFrame({ proto: 6, ipDst: '10.1.2.3' })]);
  const [flow] = r.dp.flows();
  assert.equal(formatOdpKey(flow!.fullKey, flow!.mask), 'recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,frag=no),tcp_flags(syn)');
  const partial = Uint32Array.from(flow!.mask);
  partial[maskOf('ip_dst').findIndex((x) => x !== 0)] = 0xffffff00;
  partial[maskOf('tcp_flags').findIndex((x) => x !== 0)] = 0x012;
  assert.equal(formatOdpKey(flow!.fullKey, partial), 'recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(dst=10.1.2.3/255.255.255.0,proto=6,frag=no),tcp_flags(+syn-ack)');
});

test('dpctl/show, dpif/show, pmd-stats-show and upcall/show have OVS\'s shape and counts', () => {
  const { r } = runScenario();
  assert.equal(formatDpctlShow(r.dp), [
    'netdev@ovs-netdev:',
    '  lookups: hit:1 missed:6 lost:0',
    '  flows: 6',
    '  port 0: ovs-netdev (dummy-internal)',
    '  port 1: p1 (dummy)',
    '  port 2: p2 (dummy)',
    '  port 3: p3 (dummy)',
    '  port 100: br0 (dummy-internal)',
    '',
  ].join('\n'));
  const withStats = formatDpctlShow(r.dp, true);
  assert.match(withStats, / {2}port 1: p1 \(dummy\)\n {4}RX packets:5 errors:\? dropped:\? overruns:\? frame:\?\n {4}TX packets:2 errors:\? dropped:0 aborted:\? carrier:\?\n {4}collisions:\?\n {4}RX bytes:\d+ {2}TX bytes:\d+\n/);
  const ports = [...r.dp.ports.values()].filter((p) => p.no !== 0).map((p) => ({ name: p.name, ofport: p.name === 'br0' ? 65534 : p.no, dpPort: p.no, type: p.type }));
  assert.equal(formatDpifShow([{ dp: r.dp, bridges: [{ name: 'br0', ports }] }]), [
    'netdev@ovs-netdev: hit:1 missed:6',
    '  br0:',
    '    br0 65534/100: (dummy-internal)',
    '    p1 1/1: (dummy)',
    '    p2 2/2: (dummy)',
    '    p3 3/3: (dummy)',
    '',
  ].join('\n'));
  assert.equal(formatPmdStats(r.dp), [
    'main thread:',
    '  packets received: 7',
    '  packet recirculations: 0',
    '  avg. datapath passes per packet: 1.00',
    '  phwol hits: 0',
    '  mfex opt hits: 0',
    '  simple match hits: 0',
    '  emc hits: 0',
    '  smc hits: 0',
    '  megaflow hits: 1',
    '  avg. subtable lookups per megaflow hit: 1.00',
    '  miss with success upcall: 6',
    '  miss with failed upcall: 0',
    '  avg. packets per output batch: 1.00',
    '',
  ].join('\n'));
  assert.match(formatPmdStats(r.dp, 'pmd thread numa_id 0 core_id 1', 1000), /idle cycles: 1000 \([\d.]+%\)\n {2}processing cycles: \d+ \([\d.]+%\)\n {2}avg cycles per packet: [\d.]+ \(\d+\/7\)\n/);
  assert.match(formatUpcallShow(r.dp), /^netdev@ovs-netdev:\n {2}flows {9}: \(current 6\) \(avg 6\) \(max 6\) \(limit 200000\)\n {2}dump duration : \d+ms\n {2}ufid enabled : true\n\n {2}1: \(keys 6\)\n$/);
});

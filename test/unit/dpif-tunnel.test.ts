// The datapath's own tunnelling (OVS's tnl_push, tnl_pop and clone): a
// frame gets a finished VXLAN/Geneve/GRE header and leaves encapsulated; a
// tunnel frame is decapsulated and goes through the datapath again from its
// tunnel port with its tunnel metadata in the key, so its megaflow matches
// that metadata; clone encapsulates a copy and leaves the packet as it was;
// and the texts are Open vSwitch's (checked against ovs-vswitchd 3.1 dumps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameBatch } from '../../src/native/batch.js';
import {
  DpifNetdev, formatActions, formatOdpKey, parseTunnelFrame, tunnelHeader, type DpAction, type TunnelHeaderSpec, type TunnelMetadata, type UpcallResult,
} from '../../src/dpif/index.js';
import { K } from '../../src/dpif/words.js';
import { FakePort, buildFrame, maskOf } from './dpif-helpers.js';

const SPEC: TunnelHeaderSpec = {
  kind: 'vxlan', keyPresent: true, ethSrc: 0xce_f8_7b_fd_d3_4dn, ethDst: 0x6a_b6_7c_a6_8a_4cn,
  ipSrc: 0xac1f4002, ipDst: 0xac1f4001, vni: 0x1092, dstPort: 4789,
};

function meta(): TunnelMetadata {
  return { ipSrc: 0, ipDst: 0, udpDst: 0, key: 0, keyPresent: false, inner: 0 };
}

function ipChecksumOk(f: Uint8Array): boolean {
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += (f[i]! << 8) | f[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/** A datapath with ports 1 (in), 2 and 4 (out), and 3 a VXLAN tunnel port, answering upcalls with `answer`. */
function rig(answer: (inPort: number, key: Uint32Array) => UpcallResult | null) {
  const upcalls: Array<{ inPort: number; key: Uint32Array }> = [];
  const dp = new DpifNetdev({ upcall: (inPort, key) => { upcalls.push({ inPort, key: key.slice() }); return answer(inPort, key); } });
  const ports = [new FakePort(), new FakePort(), new FakePort(), new FakePort()];
  dp.addPort('p1', 'system', ports[0]!, 1);
  dp.addPort('p2', 'system', ports[1]!, 2);
  dp.addPort('vxlan_sys_4789', 'vxlan', null, 3);
  dp.addPort('p4', 'system', ports[3]!, 4);
  dp.setTunnelPort(3, 'vxlan');
  const send = (frame: Uint8Array, port = 1): void => {
    const b = new FrameBatch(4, 32768);
    b.push(frame, port);
    dp.processBatch(b);
  };
  return { dp, upcalls, sent: (i: number) => ports[i - 1]!.sent, send };
}

test('tnl_push puts a finished VXLAN header in front: lengths, IPv4 checksum, a source port, the inner frame intact', () => {
  const header = tunnelHeader(SPEC);
  const push: DpAction = { type: 'tnl_push', tnlPort: 3, outPort: 9, kind: 'vxlan', header };
  const r = rig(() => ({ actions: [push, { type: 'output', port: 2 }], mask: maskOf('in_port') }));
  const inner = buildFrame({ payload: 100 });
  r.send(inner);
  r.send(inner);
  const out = r.sent(2);
  assert.equal(out.length, 2);
  assert.equal(r.upcalls.length, 1, 'the second frame hits the megaflow');
  const f = out[1]!;
  assert.equal(f.length, 50 + inner.length);
  assert.ok(ipChecksumOk(f), 'outer IPv4 checksum');
  assert.equal((f[16]! << 8) | f[17]!, 36 + inner.length, 'IPv4 total length');
  assert.equal((f[38]! << 8) | f[39]!, 16 + inner.length, 'UDP length');
  const sport = (f[34]! << 8) | f[35]!;
  assert.ok(sport >= 32768 && sport < 61000, `source port ${sport}`);
  const m = meta();
  assert.ok(parseTunnelFrame(f, 0, f.length, 'vxlan', m));
  assert.deepEqual([m.ipSrc, m.ipDst, m.udpDst, m.key], [SPEC.ipSrc, SPEC.ipDst, 4789, 0x1092]);
  assert.deepEqual(f.subarray(m.inner), inner);
});

test('tnl_pop takes the header off and the inner frame comes in again by the tunnel port with its metadata', () => {
  const outer = (() => {
    const header = tunnelHeader(SPEC);
    const inner = buildFrame({ src: '50:54:00:00:00:0a', payload: 60 });
    const b = new Uint8Array(header.length + inner.length);
    b.set(header);
    b.set(inner, header.length);
    return { b, inner };
  })();
  const tunMask = maskOf('in_port', 'tun_id', 'tun_src', 'tun_dst');
  const r = rig((inPort) => (inPort === 1
    ? { actions: [{ type: 'tnl_pop', port: 3 }], mask: maskOf('in_port', 'ip_dst') }
    : { actions: [{ type: 'output', port: 2 }], mask: tunMask }));
  r.send(outer.b);
  r.send(outer.b);
  assert.equal(r.sent(2).length, 2);
  assert.deepEqual(r.sent(2)[0], outer.inner);
  assert.equal(r.upcalls.length, 2, 'one upcall for the outer flow, one for the decapsulated one');
  const second = r.upcalls[1]!;
  assert.equal(second.inPort, 3);
  assert.equal(second.key[K.tunId + 1], 0x1092);
  assert.equal(second.key[K.tunSrc], SPEC.ipSrc);
  assert.equal(second.key[K.tunDst], SPEC.ipDst);
  assert.equal(r.dp.stats.recirculations, 2);
  assert.equal(r.dp.stats.packets, 2, 'a recirculated frame is not counted as received again');
  const flow = r.dp.flows().find((f) => f.fullKey[K.inPort] === 3)!;
  assert.match(formatOdpKey(flow.fullKey, flow.mask),
    /^tunnel\(tun_id=0x1092,src=172\.31\.64\.2,dst=172\.31\.64\.1,flags\(-df-csum\+key\)\),recirc_id\(0\),in_port\(3\),/);
  // A frame that is not VXLAN is dropped by tnl_pop.
  const bad = outer.b.slice();
  bad[42] = 0;
  r.send(bad);
  assert.equal(r.sent(2).length, 2);
});

test('clone encapsulates a copy while the packet itself goes on unchanged', () => {
  const push: DpAction = { type: 'tnl_push', tnlPort: 3, outPort: 9, kind: 'vxlan', header: tunnelHeader(SPEC) };
  const r = rig(() => ({ actions: [{ type: 'clone', actions: [push, { type: 'output', port: 2 }] }, { type: 'output', port: 4 }], mask: maskOf('in_port') }));
  const inner = buildFrame();
  r.send(inner);
  assert.equal(r.sent(2)[0]!.length, 50 + inner.length);
  assert.deepEqual(r.sent(4)[0], inner);
});

test('tnl_push, tnl_pop and clone print as ovs-vswitchd prints them', () => {
  const names = undefined;
  assert.equal(formatActions([{ type: 'tnl_push', tnlPort: 5, outPort: 1, kind: 'geneve', header: tunnelHeader({ ...SPEC, kind: 'geneve', dstPort: 6081 }) }, { type: 'output', port: 2 }], names),
    'tnl_push(tnl_port(5),header(size=50,type=5,eth(dst=6a:b6:7c:a6:8a:4c,src=ce:f8:7b:fd:d3:4d,dl_type=0x0800),'
    + 'ipv4(src=172.31.64.2,dst=172.31.64.1,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0x0),geneve(vni=0x1092)),out_port(1)),2');
  assert.equal(formatActions([{ type: 'tnl_push', tnlPort: 5, outPort: 1, kind: 'gre', header: tunnelHeader({ ...SPEC, kind: 'gre', dstPort: 0 }) }]),
    'tnl_push(tnl_port(5),header(size=42,type=3,eth(dst=6a:b6:7c:a6:8a:4c,src=ce:f8:7b:fd:d3:4d,dl_type=0x0800),'
    + 'ipv4(src=172.31.64.2,dst=172.31.64.1,proto=47,tos=0,ttl=64,frag=0x4000),gre((flags=0x2000,proto=0x6558),key=0x1092)),out_port(1))');
  assert.match(formatActions([{ type: 'tnl_push', tnlPort: 2, outPort: 1, kind: 'vxlan', header: tunnelHeader(SPEC) }]),
    /,udp\(src=0,dst=4789,csum=0x0\),vxlan\(flags=0x8000000,vni=0x1092\)\),out_port\(1\)\)$/);
  assert.equal(formatActions([{ type: 'tnl_pop', port: 5 }]), 'tnl_pop(5)');
  assert.equal(formatActions([{ type: 'clone', actions: [{ type: 'output', port: 2 }, { type: 'output', port: 3 }] }, { type: 'output', port: 4 }]), 'clone(2,3),4');
});

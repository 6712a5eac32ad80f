import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixChecksums, getField } from '../../src/flow/index.js';
import { FrameBatch } from '../../src/native/batch.js';
import { DpifNetdev, formatActions, type DpAction, type UpcallResult } from '../../src/dpif/index.js';
import { buildFrame, checksumsValid, maskOf, rig, setAction } from './dpif-helpers.js';

const out = (port: number): DpAction => ({ type: 'output', port });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Port 1 -> 2 for IPv4 by destination only (L4 wildcarded), everything else dropped. */
const byDst = (inPort: number, key: Uint32Array): UpcallResult => ({
  actions: inPort === 1 && getField(key, 'eth_type') === 0x800n ? [out(2)] : [],
  mask: maskOf('in_port', 'eth_type', 'ip_dst'),
});

test('a miss upcalls once; the rest of the class hits the megaflow without upcalls', () => {
  const r = rig(2, byDst);
  r.inject(1, [buildFrame()]);
  assert.equal(r.upcalls, 1);
  assert.equal(r.ports[2]!.sent.length, 1);
  for (let i = 0; i < 5; i++) r.inject(1, [buildFrame(), buildFrame()]);
  assert.equal(r.upcalls, 1, 'later packets of the class never upcall');
  assert.equal(r.ports[2]!.sent.length, 11);
  const [f] = r.dp.flows();
  assert.equal(r.dp.flowCount, 1);
  assert.equal(f!.packets, 10, 'the upcalled packet is not counted on the flow, as in OVS');
  assert.equal(r.dp.stats.missSuccess, 1);
  assert.equal(r.dp.stats.emcHits + r.dp.stats.megaflowHits, 10);
});

test('packets with different L4 ports share a megaflow that wildcards them; an exact mask splits them', () => {
  const r = rig(2, byDst);
  r.inject(1, Array.from({ length: 50 }, (_, i) => buildFrame({ sport: 1000 + i, dport: 3000 + i })));
  assert.equal(r.upcalls, 1);
  assert.equal(r.dp.flowCount, 1);
  assert.equal(r.ports[2]!.sent.length, 50);
  assert.equal(r.ports[2]!.txCalls, 1, 'one transmit per port per batch');

  const exact = rig(2, (p, k) => ({ ...byDst(p, k), mask: maskOf('in_port', 'eth_type', 'ip_dst', 'nw_proto', 'udp_src') }));
  exact.inject(1, Array.from({ length: 10 }, (_, i) => buildFrame({ sport: 1000 + i })));
  assert.equal(exact.upcalls, 10);
  assert.equal(exact.dp.flowCount, 10);
  assert.equal(exact.dp.masks, 1);
});

test('set actions rewrite only the masked header bits, with checksums kept valid', () => {
  const acts: DpAction[] = [
    setAction({ eth_src: 0xaan, ip_dst: [0x01020300n, 0xffffff00n], udp_dst: 8080n, nw_ttl: 7n, ip_tos: [0x10n, 0xfcn] }),
    out(2),
  ];
  const r = rig(2, () => ({ actions: acts, mask: maskOf('in_port', 'eth_type') }));
  const frames = [buildFrame({ ipDst: '10.0.0.2', sport: 5 }), buildFrame({ ipDst: '10.9.9.77', sport: 6, tos: 3 }), buildFrame({ proto: 6, dport: 80 })];
  r.inject(1, frames);
  const sent = r.ports[2]!.sent;
  assert.equal(sent.length, 3);
  assert.equal(hex(sent[0]!.subarray(6, 12)), '0000000000aa');
  assert.deepEqual([...sent[0]!.subarray(30, 34)], [1, 2, 3, 2], 'low byte of the destination kept');
  assert.deepEqual([...sent[1]!.subarray(30, 34)], [1, 2, 3, 77]);
  assert.equal(sent[1]!.at(15), 0x13, 'ECN bits of TOS kept');
  assert.equal(sent[0]!.at(22), 7);
  assert.equal((sent[0]!.at(36)! << 8) | sent[0]!.at(37)!, 8080);
  assert.equal((sent[2]!.at(36)! << 8) | sent[2]!.at(37)!, 80, 'a UDP port set leaves a TCP packet alone');
  for (const f of sent) assert.ok(checksumsValid(f), `checksums of ${hex(f)}`);
  assert.equal(formatActions(acts), 'set(eth(src=00:00:00:00:00:aa)),set(ipv4(dst=1.2.3.0/255.255.255.0,tos=0x10/0xfc,ttl=7)),set(udp(dst=8080)),2');
});

test('push_vlan and pop_vlan rewrite frames, with or without headroom', () => {
  const tagged = buildFrame({ vlans: [[0x8100, 10]] });
  const plain = buildFrame();
  const r = rig(3, (inPort) => ({
    actions: inPort === 1 ? [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | (5 << 13) | 42 }, out(2)] : [{ type: 'pop_vlan' }, out(1), out(3)],
    mask: maskOf('in_port'),
  }));
  r.inject(1, [plain, plain]);
  const pushed = r.ports[2]!.sent[0]!;
  assert.equal(hex(pushed.subarray(12, 16)), '8100a02a');
  assert.equal(hex(pushed.subarray(16)), hex(plain.subarray(12)));
  assert.equal(hex(pushed.subarray(0, 12)), hex(plain.subarray(0, 12)));
  r.inject(2, [tagged]);
  assert.equal(hex(r.ports[1]!.sent[0]!), hex(plain));
  assert.equal(hex(r.ports[3]!.sent[0]!), hex(plain));

  // Frames packed back to back with no headroom: the push moves the frame to the free space after the batch.
  const b = new FrameBatch(4, 16384);
  let at = 0;
  for (let i = 0; i < 3; i++) {
    b.buf.set(plain, at);
    b.off[i] = at; b.len[i] = plain.length; b.port[i] = 1;
    at += plain.length;
  }
  b.count = 3;
  r.dp.processBatch(b);
  const last3 = r.ports[2]!.sent.slice(-3);
  for (const f of last3) assert.equal(hex(f), hex(pushed));
});

test('push_mpls then pop_mpls gives the frame back', () => {
  const plain = buildFrame();
  const r = rig(3, (inPort) => ({
    actions: inPort === 1 ? [{ type: 'push_mpls', ethertype: 0x8847, lse: (100 << 12) | (1 << 8) | 64 }, out(2)] : [{ type: 'pop_mpls', ethertype: 0x800 }, out(3)],
    mask: maskOf('in_port'),
  }));
  r.inject(1, [plain]);
  const m = r.ports[2]!.sent[0]!;
  assert.equal(hex(m.subarray(12, 18)), '884700064140');
  r.inject(2, [m]);
  assert.equal(hex(r.ports[3]!.sent[0]!), hex(plain));
});

test('after tablesChanged + revalidateNow the next packet follows the new actions (1000 alternations, never stale)', () => {
  let version = 0;
  // Two masks, and every megaflow hit enters the EMC, so both caches are in play.
  const r = rig(3, (p) => ({ actions: [out(version % 2 ? 3 : 2)], mask: p === 1 ? maskOf('in_port', 'eth_type') : maskOf('in_port', 'ip_src') }), { emcInsertInvProb: 1 });
  r.inject(2, [buildFrame()]);
  r.ports[2]!.sent.length = 0;
  const f = buildFrame();
  for (let i = 0; i < 1000; i++) {
    version = i;
    r.dp.tablesChanged();
    r.dp.revalidateNow();
    const before2 = r.ports[2]!.sent.length;
    const before3 = r.ports[3]!.sent.length;
    r.inject(1, [f, f]);
    const want = i % 2 ? 3 : 2;
    assert.equal(r.ports[want]!.sent.length - (want === 2 ? before2 : before3), 2, `alternation ${i} went to port ${want}`);
    assert.equal(r.ports[5 - want]!.sent.length, want === 2 ? before3 : before2, `alternation ${i}: nothing to the old port`);
  }
  assert.equal(r.upcalls, 2, 'flows are updated in place, not re-upcalled');
  assert.ok(r.dp.stats.emcHits >= 999, `EMC hits ${r.dp.stats.emcHits}`);
  assert.ok(r.dp.revalidation.modified >= 999);
  // Without revalidateNow the datapath still revalidates before its next packet.
  version = 0;
  r.dp.tablesChanged();
  r.inject(1, [f]);
  assert.equal(r.ports[2]!.sent.length, 1001);
});

test('a flow whose mask changes on revalidation is deleted and upcalled again', () => {
  let wide = true;
  const r = rig(2, () => ({ actions: [out(2)], mask: wide ? maskOf('in_port') : maskOf('in_port', 'ip_src') }));
  r.inject(1, [buildFrame()]);
  wide = false;
  r.dp.tablesChanged();
  assert.deepEqual(r.dp.revalidateNow(), { deleted: 1, modified: 0 });
  r.inject(1, [buildFrame()]);
  assert.equal(r.upcalls, 2);
});

test('max-idle removes idle flows and keeps busy ones', () => {
  let now = 1000;
  const r = rig(2, () => ({ actions: [out(2)], mask: maskOf('in_port', 'eth_type', 'ip_dst') }), { clock: () => now, maxIdleMs: 500 });
  r.inject(1, [buildFrame({ ipDst: '10.0.0.2' }), buildFrame({ ipDst: '10.0.0.3' })]);
  assert.equal(r.dp.flowCount, 2);
  now = 1400;
  r.inject(1, [buildFrame({ ipDst: '10.0.0.2' })]);
  now = 1600;
  assert.deepEqual(r.dp.revalidate(now), { deleted: 1, modified: 0 });
  assert.equal(r.dp.flowCount, 1);
  assert.equal(getField(r.dp.flows()[0]!.key, 'ip_dst'), 0x0a000002n);
  now = 3000;
  r.dp.revalidate(now);
  assert.equal(r.dp.flowCount, 0);
});

test('flow-limit bounds the megaflows while every packet is still forwarded', () => {
  const r = rig(2, byDst, { flowLimit: 5 });
  const frames = Array.from({ length: 20 }, (_, i) => buildFrame({ ipDst: `10.0.1.${i}` }));
  r.inject(1, frames);
  assert.equal(r.dp.flowCount, 5);
  assert.equal(r.ports[2]!.sent.length, 20);
  r.dp.configure({ flowLimit: 2 });
  r.dp.revalidate();
  assert.equal(r.dp.flowCount, 2);
});

test('userspace, meter and trunc actions', () => {
  const seen: [number, number, number][] = [];
  let allow = 0;
  const r = rig(3, () => ({
    actions: [{ type: 'meter', id: 7 }, { type: 'userspace', pid: 0, cookie: 99 }, { type: 'trunc', maxLen: 20 }, out(2), out(3)],
    mask: maskOf('in_port'),
  }), {
    userspace: (a, frame, inPort) => seen.push([a.cookie, frame.length, inPort]),
    meter: () => allow++ % 2 === 0,
  });
  r.inject(1, [buildFrame(), buildFrame(), buildFrame(), buildFrame()]);
  assert.equal(seen.length, 2, 'the meter let every other packet through');
  assert.deepEqual(seen[0], [99, 60, 1]);
  assert.deepEqual(r.ports[2]!.sent.map((f) => f.length), [20, 20], 'trunc applies to the next output');
  assert.deepEqual(r.ports[3]!.sent.map((f) => f.length), [60, 60]);
});

test('runt, truncated, jumbo, QinQ-in-QinQ and random frames never throw', () => {
  const acts: DpAction[] = [setAction({ ip_dst: 0x01020304n, tcp_dst: 1n, eth_dst: 1n }), { type: 'push_vlan', tpid: 0x88a8, tci: 0x1005 },
    { type: 'pop_vlan' }, { type: 'pop_vlan' }, { type: 'push_mpls', ethertype: 0x8847, lse: 0x100 }, { type: 'pop_mpls', ethertype: 0x800 }, out(2)];
  const r = rig(2, () => ({ actions: acts, mask: maskOf('in_port') }));
  const good = buildFrame({ proto: 6 });
  const frames: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(13), good.subarray(0, 14), good.subarray(0, 30), good.subarray(0, 40)];
  frames.push(buildFrame({ payload: 9000 - 42 }));
  frames.push(buildFrame({ vlans: [[0x88a8, 1], [0x8100, 2], [0x88a8, 3], [0x8100, 4]], proto: 6 }));
  const badIhl = Uint8Array.from(good); badIhl[14] = 0x4f; frames.push(badIhl);
  let seed = 7;
  for (let i = 0; i < 300; i++) {
    const f = Uint8Array.from(good.subarray(0, (seed = (seed * 1103515245 + 12345) >>> 0) % 80));
    for (let j = 0; j < f.length; j++) if ((seed = (seed * 1103515245 + 12345) >>> 0) % 5 === 0) f[j] = seed >>> 24;
    frames.push(f);
  }
  for (let i = 0; i < frames.length; i += 64) r.inject(1, frames.slice(i, i + 64));
  assert.equal(r.ports[2]!.sent.length, frames.length);
  // Packets of different flows in one batch go out flow by flow (as OVS's per-flow batches do), so look the jumbo up by size.
  assert.ok(r.ports[2]!.sent.some((f) => f.length === 9000), 'the jumbo frame went through whole');
});

test('a failed upcall drops the packet and counts as lost; bad actions are refused', () => {
  const r = rig(2, (p, k) => (getField(k, 'eth_type') === 0x800n ? null : { actions: [setAction({ reg0: 1n }), out(2)], mask: maskOf('in_port') }));
  r.inject(1, [buildFrame(), buildFrame({ type: 0x88cc })]);
  assert.equal(r.dp.stats.missFailed, 2);
  assert.equal(r.dp.stats.lost, 2);
  assert.equal(r.ports[2]!.sent.length, 0);
  assert.equal(r.dp.flowCount, 0);
});

test('port numbers follow OVS: the dummy datapath uses the number in the name, br* from 100; netdev the lowest free', () => {
  const d = new DpifNetdev({ upcall: () => null, dummyNumbering: true });
  assert.equal(d.addPort('p7', 'dummy', null), 7);
  assert.equal(d.addPort('br0', 'dummy-internal', null), 100);
  assert.equal(d.addPort('eth', 'dummy', null), 1);
  assert.equal(d.addPort('x7', 'dummy', null), 2, 'a taken number falls back to the lowest free');
  const n = new DpifNetdev({ upcall: () => null });
  assert.equal(n.addPort('p7', 'system', null), 1);
  assert.equal(n.addPort('br0', 'tap', null), 2);
  assert.equal(n.ports.get(0)!.name, 'ovs-netdev');
  assert.throws(() => n.addPort('p7', 'system', null), /already has a port named p7/);
  n.delPort(1);
  assert.equal(n.addPort('q', 'system', null), 1);
});

test('IPv6 address and ICMP sets keep L4 checksums valid; the EMC empties when the tables change', () => {
  const v6 = (): Uint8Array => {
    const b = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 12, 17, 64];
    for (const last of [1, 2]) b.push(0x20, 0x01, ...new Array<number>(13).fill(0), last);
    b.push(0x12, 0x34, 0x56, 0x78, 0, 12, 0, 0, 1, 2, 3, 4);
    return Uint8Array.from(b);
  };
  const fixed = v6();
  const r = rig(2, (p, k) => (getField(k, 'eth_type') === 0x86ddn
    ? { actions: [setAction({ ipv6_dst: 0x20010db8000000000000000000000063n, ipv6_label: 5n }), out(2)], mask: maskOf('in_port') }
    : { actions: [setAction({ icmp_type: 0n }), out(2)], mask: maskOf('in_port', 'ip_src') }), { emcInsertInvProb: 1 });
  const seeded = Uint8Array.from(fixed);
  fixChecksums(seeded);
  r.inject(1, [seeded, buildFrame({ proto: 1 }), buildFrame({ proto: 1 })]);
  const [a, b] = r.ports[2]!.sent;
  assert.equal(Buffer.from(a!.subarray(38, 54)).toString('hex'), '20010db8000000000000000000000063');
  assert.equal(a![17], 5);
  assert.ok(checksumsValid(a!));
  assert.equal(b![34], 0);
  assert.ok(checksumsValid(b!));
  assert.ok(r.dp.emcEntries > 0);
  r.dp.tablesChanged();
  assert.equal(r.dp.emcEntries, 0);
});

test('executePacket runs actions on one frame (packet-out), even from inside an upcall', () => {
  const r = rig(3, () => {
    r.dp.executePacket(buildFrame(), 1, [{ type: 'push_vlan', tpid: 0x8100, tci: 0x1000 | 9 }, out(3)]);
    return { actions: [out(2)], mask: maskOf('in_port') };
  });
  r.inject(1, [buildFrame(), buildFrame()]);
  assert.equal(r.ports[2]!.sent.length, 2);
  assert.equal(r.ports[3]!.sent.length, 1);
  assert.equal(Buffer.from(r.ports[3]!.sent[0]!.subarray(12, 16)).toString('hex'), '81000009');
});

test('a port whose transmit throws does not wedge the datapath; re-entering processBatch is refused', () => {
  const r = rig(2, () => ({ actions: [out(2)], mask: maskOf('in_port') }));
  let fail = true;
  const sent: number[] = [];
  r.dp.setPortIo(2, { rx: () => 0, tx: (_b, _idx, n) => { if (fail) throw new Error('link down'); sent.push(n); } });
  assert.throws(() => r.inject(1, [buildFrame()]), /link down/);
  fail = false;
  r.inject(1, [buildFrame(), buildFrame()]);
  assert.deepEqual(sent, [2]);
  const again = rig(2, () => {
    again.inject(1, [buildFrame()]);
    return { actions: [], mask: maskOf('in_port') };
  });
  again.inject(1, [buildFrame()]);
  assert.equal(again.dp.stats.missFailed, 1, 'the re-entering upcall failed and its packet was dropped');
});

test('ND and NSH sets rewrite the target, link-layer addresses, reserved word, NSH path and context, checksums kept', () => {
  // An IPv6 neighbour solicitation with a source link-layer address option, and an NSH (MD type 1) frame.
  const ns = (): Uint8Array => {
    const b = [0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255];
    for (const last of [1, 2]) b.push(0xfe, 0x80, ...new Array<number>(13).fill(0), last);
    b.push(135, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80, ...new Array<number>(13).fill(0), 9, 1, 1, 0, 0, 0, 0, 0, 1);
    const f = Uint8Array.from(b);
    fixChecksums(f);
    return f;
  };
  const nsh = Uint8Array.from([0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x89, 0x4f,
    0x0f, 0xc6, 0x01, 0x03, 0x00, 0x00, 0x01, 0xff, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
  const ndSet = setAction({ nd_target: 0xfe800000000000000000000000000099n, nd_sll: 0x001122334455n, nd_reserved: 0x1234n });
  const nshSet = setAction({ nsh_spi: 0x123n, nsh_si: 9n, nsh_c1: 7n, nsh_ttl: 5n, nsh_flags: 2n });
  const r = rig(2, (_p, k) => ({
    actions: [getField(k, 'eth_type') === 0x894fn ? nshSet : ndSet, out(2)], mask: maskOf('in_port', 'eth_type'),
  }));
  r.inject(1, [ns(), nsh]);
  const [a, b] = r.ports[2]!.sent;
  assert.equal(hex(a!.subarray(58, 62)), '00001234', 'reserved word');
  assert.equal(hex(a!.subarray(62, 78)), 'fe800000000000000000000000000099', 'target');
  assert.equal(hex(a!.subarray(80, 86)), '001122334455', 'source link-layer address');
  assert.ok(checksumsValid(a!), 'ICMPv6 checksum');
  assert.equal(((b![14]! << 8) | b![15]!) & 0x3fff, (2 << 12) | (5 << 6) | 6, 'flags, TTL, length kept');
  assert.equal(hex(b!.subarray(18, 26)), '0001230900000007', 'SPI, SI and c1');
  assert.equal(hex(b!.subarray(26, 38)), '000000020000000300000004', 'c2-c4 untouched');
  assert.equal(formatActions([ndSet]), 'set(nd(target=fe80::99,sll=00:11:22:33:44:55)),set(nd_ext(nd_reserved=0x1234))');
  assert.equal(formatActions([nshSet]), 'set(nsh(flags=2,ttl=5,spi=0x123,si=9,c1=0x7))');
});

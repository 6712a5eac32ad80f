// The netdev registry and the dummy port type: what the switch and, later,
// the datapath rely on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DummyNetdev, NetdevError, NetdevRegistry, formatMac, parseMac, registerDummyClasses, registerDummyCommands,
} from '../../src/netdev/index.js';

type Handler = (args: string[]) => string | void | Promise<string | void>;

function commands(registry: NetdevRegistry, after?: () => Promise<void>): Map<string, Handler> {
  const m = new Map<string, Handler>();
  registerDummyCommands({ register: (name, _u, _min, _max, h) => void m.set(name, h) }, registry, after);
  return m;
}

describe('netdev registry', () => {
  it('opens by type, "" meaning system, and refuses unknown types with EAFNOSUPPORT', () => {
    const r = new NetdevRegistry();
    registerDummyClasses(r, 'none');
    assert.deepEqual(r.types(), ['dummy', 'dummy-internal']);
    const d = r.open('p1', 'dummy');
    assert.equal(d.type, 'dummy');
    assert.throws(() => r.open('p2', ''), (e: unknown) => e instanceof NetdevError && e.errno === 'EAFNOSUPPORT'
      && e.message === 'Address family not supported by protocol');
    registerDummyClasses(r, 'system');
    assert.equal(r.open('p2', '').type, 'system');
  });

  it('shares an open device by name, closes it with the last reference, and refuses a second type', () => {
    const r = new NetdevRegistry();
    registerDummyClasses(r, 'none');
    const a = r.open('p1', 'dummy');
    assert.equal(r.open('p1', 'dummy'), a);
    assert.throws(() => r.open('p1', 'dummy-internal'), (e: unknown) => e instanceof NetdevError && e.errno === 'EEXIST');
    r.close(a);
    assert.equal(r.byName('p1'), a);
    r.close(a);
    assert.equal(r.byName('p1'), undefined);
    assert.notEqual(r.open('p1', 'dummy'), a);
  });

  it('override makes the dummy class serve every known type but patch', () => {
    const r = new NetdevRegistry();
    registerDummyClasses(r, 'override', ['system', 'internal', 'vxlan', 'patch']);
    assert.deepEqual(r.types(), ['dummy', 'dummy-internal', 'internal', 'system', 'vxlan']);
    assert.ok(r.open('eth0', 'vxlan') instanceof DummyNetdev);
  });
});

describe('dummy netdev', () => {
  it('has a unique locally administered MAC, MTU 1500, admin and link up, no ifindex', () => {
    const a = new DummyNetdev('a', 'dummy');
    const b = new DummyNetdev('b', 'dummy');
    assert.notEqual(a.getMac(), b.getMac());
    const mac = parseMac(a.getMac())!;
    assert.equal(mac[0]! & 3, 2, 'locally administered unicast');
    assert.equal(a.getMtu(), 1500);
    assert.ok(a.isAdminUp() && a.isLinkUp());
    assert.equal(a.getIfindex(), null);
    a.setConfig(new Map([['ifindex', '7']]));
    assert.equal(a.getIfindex(), 7);
    assert.throws(() => a.setConfig(new Map([['ifindex', 'x']])), NetdevError);
  });

  it('link follows admin state; each change bumps changeSeq and emits change', () => {
    const d = new DummyNetdev('d', 'dummy');
    let events = 0;
    d.on('change', () => events++);
    d.setAdminUp(false);
    assert.ok(!d.isAdminUp() && !d.isLinkUp());
    assert.equal(d.linkResets(), 1);
    d.setAdminUp(false);
    d.setAdminUp(true);
    d.setMac('02:00:00:00:00:01');
    d.setMtu(9000);
    assert.equal(events, 4);
    assert.equal(d.changeSeq, 4);
    assert.equal(d.getMac(), '02:00:00:00:00:01');
    assert.throws(() => d.setMtu(10), NetdevError);
  });

  it('counts frames both ways, queues received frames until a handler attaches, and taps transmits', () => {
    const d = new DummyNetdev('d', 'dummy');
    assert.ok(d.receive(new Uint8Array(60)));
    assert.ok(d.receive(new Uint8Array(64)));
    assert.equal(d.recv()!.length, 60);
    const got: number[] = [];
    d.setReceiveHandler((f) => got.push(f.length));
    assert.deepEqual(got, [64]);
    d.receive(new Uint8Array(70));
    assert.deepEqual(got, [64, 70]);
    const sent: number[] = [];
    const stop = d.tapTransmit((f) => sent.push(f.length));
    d.send(new Uint8Array(100));
    stop();
    d.send(new Uint8Array(10));
    assert.deepEqual(sent, [100]);
    assert.deepEqual(d.getStats(), { rx_packets: 3, rx_bytes: 194, tx_packets: 2, tx_bytes: 110 });
    d.setAdminUp(false);
    assert.equal(d.receive(new Uint8Array(1)), false, 'a down device drops what arrives');
  });

  it('netdev-dummy/set-admin-state: one device or all, OVS error texts, hook before the reply', async () => {
    const r = new NetdevRegistry();
    registerDummyClasses(r, 'none');
    const a = r.open('a', 'dummy');
    const b = r.open('b', 'dummy');
    let hooks = 0;
    const set = commands(r, async () => void hooks++).get('netdev-dummy/set-admin-state')!;
    assert.equal(await set(['a', 'DOWN']), 'OK');
    assert.deepEqual([a.isAdminUp(), b.isAdminUp()], [false, true]);
    assert.equal(await set(['down']), 'OK');
    assert.deepEqual([a.isAdminUp(), b.isAdminUp()], [false, false]);
    assert.equal(hooks, 2);
    await assert.rejects(async () => set(['a', 'sideways']), /^Error: Invalid Admin State$|Invalid Admin State/);
    await assert.rejects(async () => set(['nosuch', 'up']), /Unknown Dummy Interface/);
  });

  it('formats and parses MACs', () => {
    assert.equal(formatMac([0xaa, 0x55, 0, 1, 0x0f, 0xff]), 'aa:55:00:01:0f:ff');
    assert.deepEqual([...parseMac('AA:5:0:1:f:FF')!], [0xaa, 5, 0, 1, 0xf, 0xff]);
    assert.equal(parseMac('aa:55:00:01:0f'), null);
  });
});

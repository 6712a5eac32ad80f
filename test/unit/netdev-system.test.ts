// The kernel-backed port types through the registry, as the switch uses
// them: `system` on a veth end, `internal` and `tap` as tap devices. Frames
// cross per frame (send / receive handler) and per batch (sendBatch / rxq),
// link changes made from outside arrive as change events, counters come from
// the kernel. Needs root; links use a per-run prefix and are deleted after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { FrameBatch, loadNative, rxBatch } from '../../src/native/index.js';
import type { BatchNetdev, Netdev } from '../../src/netdev/index.js';
import {
  LINUX_TYPES, NetdevError, NetdevRegistry, isBatchNetdev, linkMonitor, registerDummyClasses, registerLinuxClasses,
} from '../../src/netdev/index.js';

const P = `tswm${process.pid % 10000}`;
const A = `${P}a`;
const B = `${P}b`;
const isRoot = process.getuid?.() === 0;
const opts = { skip: isRoot ? false : 'needs root' };

function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function testFrame(seq: number, size = 100): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xb5, seq >> 8, seq & 0xff]);
  for (let i = 16; i < size; i++) f[i] = (i + seq) & 0xff;
  return f;
}

const isTest = (f: Uint8Array): boolean => f[12] === 0x88 && f[13] === 0xb5;

function registry(): NetdevRegistry {
  const r = new NetdevRegistry();
  registerLinuxClasses(r);
  return r;
}

before(() => {
  if (!isRoot) return;
  sh(`ip link add ${A} type veth peer name ${B}`);
  for (const d of [A, B]) {
    sh(`sysctl -qw net.ipv6.conf.${d}.disable_ipv6=1`);
    sh(`ip link set ${d} up`);
  }
});

after(() => {
  if (!isRoot) return;
  for (const d of [A, `${P}i`, `${P}t`]) {
    try { sh(`ip link del ${d}`); } catch { /* gone already */ }
  }
});

test('registerLinuxClasses adds system, internal and tap; dummy types can still override them', () => {
  const r = registry();
  assert.deepEqual(r.types(), [...LINUX_TYPES].sort());
  registerDummyClasses(r, 'override');
  assert.equal(r.lookup('system')?.type, 'dummy');
});

test('a system port on a missing interface fails with NetdevError ENODEV', opts, () => {
  const r = registry();
  assert.throws(() => r.open(`${P}zz`, ''), (e: unknown) => e instanceof NetdevError && e.errno === 'ENODEV'
    && e.message === 'No such device');
  assert.equal(r.byName(`${P}zz`), undefined);
});

test('two system ports on a veth pair pass frames both ways, per frame and per batch', opts, async () => {
  const r = registry();
  const a = r.open(A, '');
  const b = r.open(B, 'system');
  try {
    assert.equal(a.type, 'system');
    assert.ok(isBatchNetdev(a) && isBatchNetdev(b));
    assert.equal(a.getIfindex(), loadNative().linkIndex(A));
    assert.ok(a.isAdminUp() && a.isLinkUp());
    assert.equal(a.getMtu(), 1500);
    assert.equal(a.getStatus()['driver_name'], 'veth');
    const fromA: Uint8Array[] = [];
    b.setReceiveHandler((f) => { if (isTest(f)) fromA.push(f); });
    for (let i = 0; i < 10; i++) assert.ok(a.send(testFrame(i)));
    await until('10 frames at b', () => fromA.length === 10);
    fromA.forEach((f, i) => assert.deepEqual(f, testFrame(i)));
    b.setReceiveHandler(null);

    // Batch path: what a PMD worker does with rxq() and sendBatch().
    const out = new FrameBatch(64);
    for (let i = 0; i < 40; i++) out.push(testFrame(100 + i, 60 + i));
    assert.equal((b as BatchNetdev).sendBatch(out, Uint32Array.of(1, 3, 5), 2), 2);
    assert.equal((b as BatchNetdev).sendBatch(out), 40);
    const rxq = (a as BatchNetdev).rxq();
    assert.equal(rxq.kind, 'afpacket');
    const got: Uint8Array[] = [];
    const inb = new FrameBatch(64);
    const end = Date.now() + 2000;
    while (got.length < 42 && Date.now() < end) {
      inb.clear();
      const n = rxBatch(rxq.handle, inb);
      for (let i = 0; i < n; i++) if (isTest(inb.frame(i))) got.push(inb.frame(i).slice());
      if (!n) await sleep(2);
    }
    assert.equal(got.length, 42);
    assert.deepEqual(got[0], out.frame(1));
    assert.deepEqual(got[1], out.frame(3));
    assert.deepEqual(got[41], out.frame(39));

    const sa = a.getStats();
    const sb = b.getStats();
    assert.ok(sb.tx_packets >= 42 && sa.rx_packets >= 42 && sa.tx_packets >= 10 && sb.rx_packets >= 10,
      JSON.stringify({ sa, sb }));
    assert.ok(sa.rx_bytes > 0 && sb.tx_bytes > 0);
    assert.equal(typeof sa.rx_dropped, 'number');
    assert.equal(typeof sa.tx_errors, 'number');
  } finally {
    r.close(a);
    r.close(b);
  }
});

test('link changes made outside the switch reach the port as change events (admin, carrier, MTU, MAC)', opts, async () => {
  const r = registry();
  const a = r.open(A, 'system');
  let changes = 0;
  a.on('change', () => changes++);
  try {
    const seq0 = a.changeSeq;
    sh(`ip link set ${B} down`);
    linkMonitor.poll();
    await until('carrier down', () => !a.isLinkUp());
    assert.ok(a.isAdminUp());
    assert.equal(a.linkResets(), 1);
    sh(`ip link set ${B} up`);
    await until('carrier up', () => a.isLinkUp());
    sh(`ip link set ${A} mtu 9000`);
    await until('MTU 9000', () => a.getMtu() === 9000);
    sh(`ip link set ${A} address 02:aa:bb:cc:dd:ee`);
    await until('new MAC', () => a.getMac() === '02:aa:bb:cc:dd:ee');
    assert.ok(changes >= 4 && a.changeSeq - seq0 === changes);

    // Changes made through the netdev are visible at once, and in the kernel.
    a.setMtu(1500);
    assert.equal(a.getMtu(), 1500);
    a.setMac('02:00:00:00:00:0a');
    assert.equal(loadNative().linkInfo(A).mac, '02:00:00:00:00:0a');
    a.setAdminUp(false);
    assert.equal(a.isAdminUp(), false);
    assert.equal(a.send(testFrame(1)), false);
    a.setAdminUp(true);
    assert.throws(() => a.setMac('nope'), (e: unknown) => e instanceof NetdevError && e.errno === 'EINVAL');
    assert.throws(() => a.setMtu(20), (e: unknown) => e instanceof NetdevError && e.errno === 'EINVAL');
    const speed = a.getLinkSpeed();
    assert.ok(speed === null || speed.bps > 0);
  } finally {
    r.close(a);
  }
});

test('an internal port is a tap named after it: address it, and its frames reach the switch', opts, async () => {
  const r = registry();
  const name = `${P}i`;
  const i = r.open(name, 'internal') as Netdev;
  try {
    assert.ok(isBatchNetdev(i));
    assert.equal(i.rxq().kind, 'tap');
    assert.equal(i.getStatus()['driver_name'], 'tun');
    i.setMac('02:00:00:00:01:01');
    assert.equal(loadNative().linkInfo(name).mac, '02:00:00:00:01:01');
    i.setAdminUp(true);
    sh(`ip addr add 10.232.0.1/24 dev ${name}`);
    assert.ok(i.isAdminUp() && i.isLinkUp());
    const seen: Uint8Array[] = [];
    i.setReceiveHandler((f) => seen.push(f));
    // The kernel resolves a neighbour on it: the ARP request comes to the switch.
    sh(`ip neigh flush dev ${name}; ip route get 10.232.0.2 >/dev/null`);
    execFileSync(process.execPath, ['-e',
      `const s=require('dgram').createSocket('udp4');s.send('x',9,'10.232.0.2',()=>s.close())`]);
    await until('an ARP request from the kernel', () => seen.some((f) => f[12] === 0x08 && f[13] === 0x06));
    // The kernel counts the tap from its side; the port reports the switch's side.
    const st = i.getStats();
    assert.ok(st.rx_packets >= 1, JSON.stringify(st));
    assert.ok(i.send(testFrame(5)));
    await until('tx counted', () => i.getStats().tx_packets >= 1);
  } finally {
    r.close(i);
  }
  assert.throws(() => loadNative().linkIndex(name), /ENODEV|No such device/);
});

test('a tap port opens an existing persistent tap and leaves it in place when closed', opts, () => {
  const name = `${P}t`;
  sh(`ip tuntap add dev ${name} mode tap`);
  const r = registry();
  const t = r.open(name, 'tap');
  assert.equal(t.type, 'tap');
  assert.equal(t.getIfindex(), loadNative().linkIndex(name));
  r.close(t);
  assert.ok(loadNative().linkIndex(name) > 0);
});

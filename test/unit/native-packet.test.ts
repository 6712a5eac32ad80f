// The native layer against real kernel links: AF_PACKET rings and tap fds
// moving frames across veth pairs and into a network namespace, VLAN tags
// the kernel strips coming back, jumbo and runt frames, link control and the
// rtnetlink monitor, errors with errno codes, and a worker thread bursting
// on a handle the main thread opened. Needs root (creates links and a netns
// with a per-run prefix and deletes them afterwards).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import {
  FrameBatch, closeHandle, isNativeError, loadNative, macBytes, nativeAddonPath, packetOpen, rxBatch, tapOpen, txBatch,
} from '../../src/native/index.js';

const P = `tswn${process.pid % 10000}`;
const NS = `${P}ns`;
const A = `${P}a`; // A <-> B, both here
const B = `${P}b`;
const C = `${P}c`; // C here <-> D inside NS
const D = `${P}d`;
const TAP = `${P}t`;
const ETH_TEST = 0x88b5; // IEEE local experimental ethertype: nothing else on the link uses it
const isRoot = process.getuid?.() === 0;
const native = loadNative();

function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function quiet(dev: string, ns = ''): void {
  const pre = ns ? `ip netns exec ${ns} ` : '';
  sh(`${pre}sysctl -qw net.ipv6.conf.${dev}.disable_ipv6=1`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A test frame: broadcast-free unicast, ethertype 0x88b5 (or the given tag stack in front of it), payload from seq. */
function frame(seq: number, size: number, tags: Array<[number, number]> = []): Uint8Array {
  const f = new Uint8Array(size);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
  let at = 12;
  for (const [tpid, tci] of tags) {
    f.set([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff], at);
    at += 4;
  }
  if (at + 2 <= size) f.set([ETH_TEST >> 8, ETH_TEST & 0xff], at);
  for (let i = at + 2; i < size; i++) f[i] = (seq * 7 + i) & 0xff;
  if (at + 4 <= size) f.set([seq >> 8, seq & 0xff], at + 2);
  return f;
}

/** The ethertype after any VLAN tags, and how many tags there were. */
function innerType(f: Uint8Array): { type: number; tags: number } {
  let at = 12;
  let tags = 0;
  while (at + 4 <= f.length && (f[at] === 0x81 && f[at + 1] === 0x00 || f[at] === 0x88 && f[at + 1] === 0xa8)) {
    at += 4;
    tags++;
  }
  return { type: at + 2 <= f.length ? f[at]! << 8 | f[at + 1]! : -1, tags };
}

function batchOf(frames: Uint8Array[]): FrameBatch {
  const b = new FrameBatch(256, 1 << 21);
  for (const f of frames) assert.ok(b.push(f));
  return b;
}

/** Receives test frames (ethertype 0x88b5 under any tags) until `want` came or `ms` passed. */
async function collect(handle: number, want: number, ms = 2000, pred = (f: Uint8Array) => innerType(f).type === ETH_TEST):
  Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  const b = new FrameBatch(256, 1 << 21);
  const end = Date.now() + ms;
  while (got.length < want && Date.now() < end) {
    b.clear();
    const n = rxBatch(handle, b);
    for (let i = 0; i < n; i++) if (pred(b.frame(i))) got.push(b.frame(i).slice());
    if (n === 0) await sleep(2);
  }
  return got;
}

before(() => {
  if (!isRoot) return;
  sh(`ip link add ${A} type veth peer name ${B}`);
  sh(`ip netns add ${NS}`);
  sh(`ip link add ${C} type veth peer name ${D} netns ${NS}`);
  for (const d of [A, B, C]) quiet(d);
  quiet(D, NS);
  for (const d of [A, B, C]) sh(`ip link set ${d} up`);
  sh(`ip netns exec ${NS} ip link set ${D} up`);
});

after(() => {
  if (!isRoot) return;
  for (const d of [A, C, TAP]) {
    try { sh(`ip link del ${d}`); } catch { /* gone already */ }
  }
  try { sh(`ip netns del ${NS}`); } catch { /* gone already */ }
});

const opts = { skip: isRoot ? false : 'needs root' };

test('opening a missing interface fails with ENODEV, and a closed handle with EBADF', opts, () => {
  assert.throws(() => packetOpen(`${P}zz`), (e) => isNativeError(e) && e.code === 'ENODEV' && /packetOpen/.test(e.message));
  assert.throws(() => native.linkInfo(`${P}zz`), (e) => isNativeError(e) && e.code === 'ENODEV');
  assert.throws(() => native.linkSetMtu(`${P}zz`, 1500), (e) => isNativeError(e) && e.code === 'ENODEV');
  assert.throws(() => packetOpen('x'.repeat(16)), TypeError);
  const h = packetOpen(A);
  closeHandle(h);
  assert.throws(() => rxBatch(h, new FrameBatch(4, 16384)), (e) => isNativeError(e) && e.code === 'EBADF');
  assert.throws(() => closeHandle(h), (e) => isNativeError(e) && e.code === 'EBADF');
  assert.throws(() => native.rxBurst(h, new Uint16Array(4) as unknown as Uint8Array, new Uint32Array(1),
    new Uint32Array(1), 0, 1, 0), TypeError);
});

test('without privileges opening a ring, a tap or changing a link fails with EPERM/EACCES, not a crash', opts, () => {
  const out = execFileSync(process.execPath, ['-e', `
    const n = require(${JSON.stringify(nativeAddonPath())});
    process.setgid(65534); process.setuid(65534);
    const codes = [];
    for (const f of [() => n.packetOpen('lo'), () => n.tapOpen('${P}p'), () => n.linkSetMtu('lo', 1400)]) {
      try { f(); codes.push('ok'); } catch (e) { codes.push(e.code); }
    }
    console.log(codes.join(' '));`]).toString().trim();
  assert.match(out, /^EPERM E(PERM|ACCES) EPERM$/);
});

test('a batch sent on one veth end arrives whole on the other, in order', opts, async () => {
  const ha = packetOpen(A);
  const hb = packetOpen(B);
  try {
    const frames = Array.from({ length: 200 }, (_, i) => frame(i, 60 + (i * 37) % 1400));
    assert.equal(txBatch(ha, batchOf(frames)), 200);
    const got = await collect(hb, 200);
    assert.equal(got.length, 200);
    got.forEach((f, i) => assert.deepEqual(f, frames[i], `frame ${i}`));
    const sa = native.portStats(ha);
    const sb = native.portStats(hb);
    assert.equal(sa.tx_packets, 200);
    assert.equal(sa.tx_bytes, frames.reduce((s, f) => s + f.length, 0));
    assert.ok(sb.rx_packets >= 200);
    // Own transmits are not received back (PACKET_IGNORE_OUTGOING).
    assert.equal((await collect(ha, 1, 100)).length, 0);
  } finally {
    closeHandle(ha);
    closeHandle(hb);
  }
});

test('frames go into a network namespace and come back echoed by a process there', opts, async () => {
  const script = `
    const n = require(${JSON.stringify(nativeAddonPath())});
    const h = n.packetOpen(${JSON.stringify(D)});
    const buf = new Uint8Array(1 << 21), off = new Uint32Array(256), len = new Uint32Array(256), idx = new Uint32Array(256);
    let echoed = 0; const end = Date.now() + 5000;
    process.stdout.write('ready\\n');
    (function loop() {
      const k = n.rxBurst(h, buf, off, len, 0, 256, 64);
      let m = 0;
      for (let i = 0; i < k; i++) if (buf[off[i] + 12] === 0x88 && buf[off[i] + 13] === 0xb5) idx[m++] = i;
      echoed += n.txBurst(h, buf, off, len, 0, m, idx);
      if (echoed >= 100 || Date.now() > end) { process.stdout.write('echoed ' + echoed + '\\n'); return; }
      setTimeout(loop, k ? 0 : 1);
    })();`;
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const hc = packetOpen(C);
  try {
    const end = Date.now() + 5000;
    while (!out.includes('ready') && Date.now() < end) await sleep(10);
    assert.match(out, /ready/);
    const frames = Array.from({ length: 100 }, (_, i) => frame(i, 64 + i * 13));
    assert.equal(txBatch(hc, batchOf(frames)), 100);
    const got = await collect(hc, 100, 4000);
    assert.equal(got.length, 100);
    got.forEach((f, i) => assert.deepEqual(f, frames[i], `frame ${i}`));
    await new Promise((r) => child.once('exit', r));
    assert.match(out, /echoed 100/);
  } finally {
    closeHandle(hc);
    if (child.exitCode === null) child.kill();
  }
});

test('VLAN tags the kernel strips on receive are back in the frame (802.1Q, 802.1ad, QinQ)', opts, async () => {
  const ha = packetOpen(A);
  const hb = packetOpen(B);
  try {
    const frames = [
      frame(1, 80, [[0x8100, 100]]),
      frame(2, 80, [[0x8100, 0x6000 | 4094]]),
      frame(3, 80, [[0x88a8, 300], [0x8100, 10]]),
      frame(4, 80, [[0x8100, 0]]), // priority tag, VID 0
    ];
    assert.equal(txBatch(ha, batchOf(frames)), frames.length);
    const got = await collect(hb, frames.length);
    assert.equal(got.length, frames.length);
    got.forEach((f, i) => assert.deepEqual(f, frames[i], `frame ${i}`));
    assert.deepEqual(got.map((f) => innerType(f).tags), [1, 1, 2, 1]);
  } finally {
    closeHandle(ha);
    closeHandle(hb);
  }
});

test('two sockets in one PACKET_FANOUT group share a link\'s frames between them (lb mode)', opts, async () => {
  const ha = packetOpen(A);
  const group = 1000 + process.pid % 30000;
  const q1 = packetOpen(B, { fanout: { group, mode: 'lb' } });
  const q2 = packetOpen(B, { fanout: { group, mode: 'lb' } });
  try {
    assert.equal(txBatch(ha, batchOf(Array.from({ length: 100 }, (_, i) => frame(i, 64)))), 100);
    const [g1, g2] = await Promise.all([collect(q1, 100, 500), collect(q2, 100, 500)]);
    assert.equal(g1.length + g2.length, 100);
    assert.ok(g1.length >= 30 && g2.length >= 30, `split ${g1.length}/${g2.length}`);
    // A group is per link: another link cannot join it with a different mode.
    assert.throws(() => packetOpen(A, { fanout: { group, mode: 'hash' } }), (e) => isNativeError(e) && e.code === 'EINVAL');
  } finally {
    for (const h of [ha, q1, q2]) closeHandle(h);
  }
});

for (const tpacketVersion of [2, 3] as const) test(`TPACKET_V${tpacketVersion}: a 9000-byte-MTU link carries a 9018-byte tagged jumbo frame, and a 14-byte runt passes intact`, opts, async () => {
  sh(`ip link set ${A} mtu 9000 && ip link set ${B} mtu 9000`);
  const ha = packetOpen(A, { tpacketVersion });
  const hb = packetOpen(B, { tpacketVersion });
  try {
    const jumbo = frame(7, 9014);
    const tagged = frame(8, 9018, [[0x8100, 5]]);
    const runt = frame(9, 14);
    assert.equal(txBatch(ha, batchOf([jumbo, tagged, runt])), 3);
    const got = await collect(hb, 3);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], jumbo);
    assert.deepEqual(got[1], tagged);
    assert.deepEqual(got[2], runt);
    // Over the MTU: refused by the kernel, counted as a drop, not a crash.
    assert.equal(txBatch(ha, batchOf([frame(10, 9100)])), 0);
    assert.equal(native.portStats(ha).tx_dropped, 1);
  } finally {
    closeHandle(ha);
    closeHandle(hb);
    sh(`ip link set ${A} mtu 1500 && ip link set ${B} mtu 1500`);
  }
});

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b[i]! << 8 | b[i + 1]!;
  if (b.length & 1) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An ICMP echo request from 10.231.0.2 (MAC `src`) to 10.231.0.1 (MAC `dst`). */
function icmpEcho(dst: Uint8Array, src: Uint8Array, id: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 32);
  f.set(dst, 0);
  f.set(src, 6);
  f.set([0x08, 0x00], 12);
  f.set([0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 1, 0, 0, 10, 231, 0, 2, 10, 231, 0, 1], 14);
  const ipSum = checksum(f.subarray(14, 34));
  f.set([ipSum >> 8, ipSum & 0xff], 24);
  f.set([8, 0, 0, 0, id >> 8, id & 0xff, 0, 1], 34);
  for (let i = 42; i < f.length; i++) f[i] = i;
  const icmpSum = checksum(f.subarray(34));
  f.set([icmpSum >> 8, icmpSum & 0xff], 36);
  return f;
}

test('a tap with an address is pinged through its fd: echo written, ARP answered, echo reply read', opts, async () => {
  const tap = tapOpen(TAP);
  try {
    assert.equal(tap.name, TAP);
    assert.equal(native.kindOf(tap.handle), 'tap');
    sh(`ip addr add 10.231.0.1/24 dev ${TAP} && ip link set ${TAP} up`);
    const kernelMac = macBytes(native.linkInfo(TAP).mac!);
    const me = macBytes('02:00:00:00:00:99');
    assert.equal(txBatch(tap.handle, batchOf([icmpEcho(kernelMac, me, 0x4242)])), 1);
    // The kernel wants our MAC before it answers: an ARP request for 10.231.0.2.
    const isArp = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x06 && f[21] === 1;
    const [req] = await collect(tap.handle, 1, 3000, isArp);
    assert.ok(req, 'an ARP request for 10.231.0.2 came out of the tap');
    assert.deepEqual([...req.subarray(38, 42)], [10, 231, 0, 2]);
    const rep = new Uint8Array(42);
    rep.set(req.subarray(6, 12), 0);
    rep.set(me, 6);
    rep.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
    rep.set(me, 22);
    rep.set([10, 231, 0, 2], 28);
    rep.set(req.subarray(22, 32), 32);
    assert.equal(txBatch(tap.handle, batchOf([rep])), 1);
    const isEchoReply = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && f[34] === 0;
    const [reply] = await collect(tap.handle, 1, 3000, isEchoReply);
    assert.ok(reply, 'the kernel answered the ping');
    assert.deepEqual([...reply.subarray(0, 6)], [...me]);
    assert.deepEqual([...reply.subarray(38, 40)], [0x42, 0x42]);
    assert.equal(checksum(reply.subarray(34)), 0, 'ICMP checksum valid');
    const st = native.portStats(tap.handle);
    assert.ok(st.rx_packets >= 2);
    assert.equal(st.tx_packets, 2);
  } finally {
    closeHandle(tap.handle);
  }
  // A tap this process created goes away with its handle.
  assert.throws(() => native.linkIndex(TAP), (e) => isNativeError(e) && e.code === 'ENODEV');
});

test('link control and the rtnetlink monitor: down/up, MTU and MAC changes are seen', opts, async () => {
  const mon = native.linkMonitorOpen();
  try {
    const ifindex = native.linkIndex(A);
    assert.equal(native.linkInfo(A).ifindex, ifindex);
    assert.equal(native.linkMonitorRead(mon).length, 0);
    const events = async (pred: (e: ReturnType<typeof native.linkMonitorRead>[number]) => boolean) => {
      const end = Date.now() + 2000;
      while (Date.now() < end) {
        const evs = native.linkMonitorRead(mon).filter((e) => e.ifindex === ifindex);
        if (evs.some(pred)) return true;
        await sleep(10);
      }
      return false;
    };
    native.linkSetUp(A, false);
    assert.ok(await events((e) => e.type === 'new' && !e.adminUp && e.name === A));
    assert.equal(native.linkInfo(A).adminUp, false);
    sh(`ip link set ${A} up`);
    assert.ok(await events((e) => e.adminUp && e.running && e.lowerUp));
    native.linkSetMtu(A, 1400);
    assert.ok(await events((e) => e.mtu === 1400));
    native.linkSetMac(A, macBytes('02:12:34:56:78:9a'));
    assert.ok(await events((e) => e.mac === '02:12:34:56:78:9a'));
    native.linkSetMtu(A, 1500);
    assert.throws(() => native.linkSetMtu(A, 10), (e) => isNativeError(e) && e.code === 'EINVAL');
    const speed = native.linkSpeed(A);
    assert.ok(speed === null || speed.mbps > 0);
    sh(`ip link add ${P}x type veth peer name ${P}y`);
    sh(`ip link del ${P}x`);
    const end = Date.now() + 2000;
    let kinds = '';
    while (!kinds.includes('del') && Date.now() < end) {
      kinds += native.linkMonitorRead(mon).filter((e) => e.name === `${P}x`).map((e) => e.type).join();
      await sleep(10);
    }
    assert.match(kinds, /new.*del/);
  } finally {
    closeHandle(mon);
  }
});

test('a worker thread loads the addon and bursts on a handle the main thread opened', opts, async () => {
  const ha = packetOpen(A);
  const hb = packetOpen(B);
  try {
    assert.equal(txBatch(ha, batchOf(Array.from({ length: 20 }, (_, i) => frame(i, 100)))), 20);
    await sleep(50);
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const n = require(workerData.path);
      const buf = new Uint8Array(1 << 20), off = new Uint32Array(64), len = new Uint32Array(64);
      let got = 0; const waker = n.wakerOpen(); const end = Date.now() + 3000;
      while (got < 20 && Date.now() < end) {
        n.wait(new Int32Array([workerData.handle, waker]), 100);
        const k = n.rxBurst(workerData.handle, buf, off, len, 0, 64, 64);
        for (let i = 0; i < k; i++) if (buf[off[i] + 12] === 0x88 && buf[off[i] + 13] === 0xb5) got++;
      }
      n.close(waker);
      parentPort.postMessage(got);`, { eval: true, workerData: { path: nativeAddonPath(), handle: hb } });
    const got = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(got, 20);
    await worker.terminate();
  } finally {
    closeHandle(ha);
    closeHandle(hb);
  }
});

test('a TPACKET_V2 ring hands a lone frame over at once; a TPACKET_V3 ring holds it until its block retires', opts, async () => {
  // V3 with a 1.5 s retire timeout: the frame is not readable before then. V2 has no block to wait for.
  const ha = packetOpen(A);
  const v2 = packetOpen(B);
  const v3 = packetOpen(B, { tpacketVersion: 3, retireMs: 1500 });
  try {
    assert.equal(txBatch(ha, batchOf([frame(21, 60)])), 1);
    const t0 = Date.now();
    assert.equal((await collect(v2, 1, 1000)).length, 1, 'V2: the frame was not there');
    assert.equal((await collect(v3, 1, Math.max(0, 700 - (Date.now() - t0)))).length, 0, 'V3: handed over before its block retired');
    assert.equal((await collect(v3, 1, 3000)).length, 1, 'V3: the frame never came');
  } finally {
    for (const h of [ha, v2, v3]) closeHandle(h);
  }
});

test('packetOpen refuses a ring version or slot size it cannot use, with EINVAL', opts, () => {
  for (const bad of [{ tpacketVersion: 1 as 2 }, { tpacketVersion: 4 as 3 }, { frameSize: 3000 }, { frameSize: 1024 }, { frameSize: 1 << 20 }]) {
    assert.throws(() => packetOpen(A, bad), (e) => isNativeError(e) && e.code === 'EINVAL' && /packetOpen/.test(e.message), JSON.stringify(bad));
  }
});

test('wait() returns on wake() from another thread and on frames arriving', opts, async () => {
  const hb = packetOpen(B);
  const waker = native.wakerOpen();
  try {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const n = require(workerData.path);
      parentPort.postMessage('sleeping');
      const t0 = Date.now();
      const ready = n.wait(new Int32Array([workerData.hb, workerData.waker]), 5000);
      parentPort.postMessage({ ready, ms: Date.now() - t0 });`,
    { eval: true, workerData: { path: nativeAddonPath(), hb, waker } });
    const msgs: unknown[] = [];
    worker.on('message', (m) => msgs.push(m));
    while (msgs.length === 0) await sleep(5);
    await sleep(50);
    native.wake(waker);
    while (msgs.length < 2) await sleep(5);
    const r = msgs[1] as { ready: number; ms: number };
    assert.ok(r.ready >= 1);
    assert.ok(r.ms < 2000, `woken after ${r.ms} ms`);
    await worker.terminate();
  } finally {
    closeHandle(waker);
    closeHandle(hb);
  }
});

for (const tpacketVersion of [2, 3] as const) test(`TPACKET_V${tpacketVersion}: TCP between two namespaces through an rxBurst/txBurst forwarder: checksums completed, super-frames cut`, opts,
  async () => {
    // ns1 [x1 10.234.0.1] -- veth -- [r1] forwarder [r2] -- veth -- [x2 10.234.0.2] ns2. The senders' veths keep
    // TSO and checksum offload on, so the ring sees 64 KB frames with unfinished checksums.
    const [n1, n2] = [`${P}n1`, `${P}n2`];
    const [r1, r2] = [`${P}r1`, `${P}r2`];
    sh(`ip netns add ${n1} && ip netns add ${n2}`);
    try {
      sh(`ip link add ${r1} type veth peer name x1 netns ${n1} && ip link add ${r2} type veth peer name x2 netns ${n2}`);
      for (const [ns, x, ip] of [[n1, 'x1', '10.234.0.1'], [n2, 'x2', '10.234.0.2']] as const) {
        sh(`ip netns exec ${ns} ip addr add ${ip}/24 dev ${x} && ip netns exec ${ns} ip link set ${x} up`);
      }
      for (const r of [r1, r2]) {
        quiet(r);
        sh(`ip link set ${r} up`);
      }
      const h1 = packetOpen(r1, { tpacketVersion });
      const h2 = packetOpen(r2, { tpacketVersion });
      let running = true;
      let forwarded = 0;
      const b = new FrameBatch(32); // smaller than one super-frame's segments: cutting resumes across bursts
      const forward = (): void => {
        if (!running) return;
        for (const [from, to] of [[h1, h2], [h2, h1]] as const) {
          b.clear();
          if (rxBatch(from, b) > 0) forwarded += txBatch(to, b);
        }
        setImmediate(forward);
      };
      forward();
      const server = spawn('ip', ['netns', 'exec', n2, process.execPath, '-e', `
        const h = require('crypto').createHash('sha256'); let n = 0;
        const srv = require('net').createServer((s) => {
          s.on('data', (d) => { h.update(d); n += d.length; });
          s.on('end', () => { process.stdout.write(n + ' ' + h.digest('hex') + '\\n'); srv.close(); });
        }).listen(5201, '10.234.0.2', () => process.stdout.write('listening\\n'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      server.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      try {
        const end = Date.now() + 5000;
        while (!out.includes('listening') && Date.now() < end) await sleep(10);
        const client = spawn('ip', ['netns', 'exec', n1, process.execPath, '-e', `
          const data = require('crypto').randomBytes(4 << 20);
          process.stdout.write(require('crypto').createHash('sha256').update(data).digest('hex') + '\\n');
          const s = require('net').connect(5201, '10.234.0.2', () => s.end(data));`], { stdio: ['ignore', 'pipe', 'inherit'] });
        let sent = '';
        client.stdout.on('data', (d: Buffer) => { sent += d.toString(); });
        const done = Date.now() + 20000;
        while (!/\d+ [0-9a-f]{64}/.test(out) && Date.now() < done) await sleep(20);
        client.kill();
        const [bytes, digest] = out.trim().split('\n').pop()!.split(' ');
        assert.equal(Number(bytes), 4 << 20, `server got ${bytes} bytes`);
        assert.equal(digest, sent.trim());
        const st = native.portStats(h1);
        assert.equal(st.rx_truncated, 0);
        assert.equal(st.rx_dropped, 0);
        assert.ok(forwarded > (4 << 20) / 1514, `forwarded ${forwarded} frames`);
      } finally {
        running = false;
        server.kill();
        closeHandle(h1);
        closeHandle(h2);
      }
    } finally {
      try { sh(`ip link del ${r1}; ip link del ${r2}`); } catch { /* gone with the namespaces */ }
      sh(`ip netns del ${n1}; ip netns del ${n2}`);
    }
  });

test('throughput probe: a worker forwarding with rxBurst + txBurst beside the Linux bridge, 2 s each (printed, not asserted)',
  opts, async () => {
    const [g, f1, f2, sk, br] = [`${P}g`, `${P}h`, `${P}i`, `${P}j`, `${P}br`];
    sh(`ip link add ${g} type veth peer name ${f1} && ip link add ${f2} type veth peer name ${sk}`);
    try {
      for (const d of [g, f1, f2, sk]) {
        quiet(d);
        sh(`ip link set ${d} up`);
      }
      const hg = packetOpen(g);
      const hs = packetOpen(sk);
      const gen = batchOf(Array.from({ length: 64 }, (_, i) => frame(i, 64)));
      const sink = new FrameBatch(256, 1 << 20);
      /** Offers 64-byte frames on g and counts what reaches the sink for `ms`. */
      const drive = async (ms: number): Promise<{ offered: number; received: number }> => {
        let offered = 0;
        let received = 0;
        const end = Date.now() + ms;
        while (Date.now() < end) {
          offered += txBatch(hg, gen);
          sink.clear();
          received += rxBatch(hs, sink);
          if ((offered & 0x3fff) < 64) await sleep(0); // let the worker's message through
        }
        await sleep(20);
        sink.clear();
        received += rxBatch(hs, sink);
        return { offered, received };
      };
      const kps = (n: number): string => `${(n / 2000).toFixed(0)} k/s`;

      // tsw's way: the forwarder is a PMD-style worker, bursts of up to 256, wait() when idle.
      const hin = packetOpen(f1);
      const hout = packetOpen(f2);
      const worker = new Worker(`
        const { parentPort, workerData: w } = require('node:worker_threads');
        const n = require(w.path);
        const buf = new Uint8Array(1 << 20), off = new Uint32Array(256), len = new Uint32Array(256);
        const set = new Int32Array([w.hin]);
        let fwd = 0; const end = Date.now() + 2000;
        while (Date.now() < end) {
          const k = n.rxBurst(w.hin, buf, off, len, 0, 256, 64);
          if (k) fwd += n.txBurst(w.hout, buf, off, len, 0, k); else n.wait(set, 10);
        }
        parentPort.postMessage(fwd);`, { eval: true, workerData: { path: nativeAddonPath(), hin, hout } });
      const fwdDone = new Promise<number>((r) => worker.once('message', r));
      const ours = await drive(2000);
      const forwarded = await fwdDone;
      await worker.terminate();
      closeHandle(hin);
      closeHandle(hout);

      // The Linux bridge between the same two veths, same generator and sink.
      sh(`ip link add ${br} type bridge && ip link set ${f1} master ${br} && ip link set ${f2} master ${br}`);
      sh(`ip link set ${br} up`);
      const bridge = await drive(2000);
      console.log(`# probe, 64-byte frames (generator and sink on the main thread, 2 vCPUs shared): `
        + `rxBurst/txBurst worker offered ${kps(ours.offered)} forwarded ${kps(forwarded)} received ${kps(ours.received)}; `
        + `Linux bridge offered ${kps(bridge.offered)} received ${kps(bridge.received)}; `
        + `ratio ${(ours.received / Math.max(1, bridge.received)).toFixed(2)}`);
      closeHandle(hg);
      closeHandle(hs);
      assert.ok(forwarded > 0);
    } finally {
      sh(`ip link del ${g}; ip link del ${f2}; ip link del ${br} 2>/dev/null || true`);
    }
  });

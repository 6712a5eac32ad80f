// The PMD worker pool against real kernel links: two veth pairs, the pool
// receiving on one end of each, the test sending and listening on the other
// ends. Frames of the test's ethertype from port 1 go out port 2 after one
// upcall; a tables change makes the worker translate again before the next
// frame; the worker's flows show in a dump and their counters reach the
// owner; a worker that dies is restarted, counted, and forwards again.
// Needs root (creates links with a per-run prefix and deletes them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PmdPool, type DpAction, type UpcallResult } from '../../src/dpif/index.js';
import { FLOW_WORDS } from '../../src/flow/index.js';
import { FrameBatch, closeHandle, packetOpen, rxBatch, txBatch } from '../../src/native/index.js';

const P = `tswp${process.pid % 10000}`;
const [X0, X1, Y0, Y1] = [`${P}x0`, `${P}x1`, `${P}y0`, `${P}y1`];
const ETH_TEST = 0x88b5;
const isRoot = process.getuid?.() === 0;
const opts = { skip: isRoot ? false : 'needs root' };

const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function frame(seq: number): Uint8Array {
  const f = new Uint8Array(64);
  f.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, ETH_TEST >> 8, ETH_TEST & 0xff, seq >> 8, seq & 0xff]);
  return f;
}

let sendX = -1;
let listenY = -1;
let portX = -1;
let portY = -1;
let pool: PmdPool | null = null;
let upcalls = 0;
const warnings: string[] = [];
let retranslations = 0;
/** What the "tables" say for test frames: out port 2, or drop. */
let forward = true;
const sendBatch = new FrameBatch(16);
const recvBatch = new FrameBatch(256);

function actions(): DpAction[] {
  return forward ? [{ type: 'output', port: 2 }] : [];
}

function translateFor(key: Uint32Array): UpcallResult {
  void key;
  return { actions: actions(), mask: new Uint32Array(FLOW_WORDS), ref: { rules: 'r1' } };
}

function send(seq: number): void {
  sendBatch.clear();
  sendBatch.push(frame(seq));
  assert.equal(txBatch(sendX, sendBatch), 1);
}

/** Test frames that arrived at Y0 within `ms`, by sequence number. */
async function received(ms: number): Promise<number[]> {
  const got: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    recvBatch.clear();
    const n = rxBatch(listenY, recvBatch);
    for (let i = 0; i < n; i++) {
      const f = recvBatch.frame(i);
      if (f[12] === ETH_TEST >> 8 && f[13] === (ETH_TEST & 0xff)) got.push(f[14]! << 8 | f[15]!);
    }
    await sleep(5);
  }
  return got;
}

before(() => {
  if (!isRoot) return;
  for (const [a, b] of [[X0, X1], [Y0, Y1]]) {
    sh(`ip link add ${a} type veth peer name ${b}`);
    for (const d of [a, b]) {
      sh(`sysctl -qw net.ipv6.conf.${d}.disable_ipv6=1`);
      sh(`ip link set ${d} up`);
    }
  }
  sendX = packetOpen(X0);
  listenY = packetOpen(Y0);
  portX = packetOpen(X1);
  portY = packetOpen(Y1);
  pool = new PmdPool({
    workers: 1,
    upcall: (inPort, key) => { upcalls++; return inPort === 1 ? translateFor(key) : { actions: [], mask: new Uint32Array(FLOW_WORDS) }; },
    retranslate: (key) => { retranslations++; return translateFor(key); },
    userspace: () => undefined,
    output: () => undefined,
    warn: (m) => warnings.push(m),
  });
  pool.setPorts([
    { no: 1, name: X1, type: 'system', handle: portX },
    { no: 2, name: Y1, type: 'system', handle: portY },
  ]);
});

after(async () => {
  await pool?.close();
  for (const h of [sendX, listenY, portX, portY]) if (h >= 0) closeHandle(h);
  if (isRoot) for (const d of [X0, Y0]) sh(`ip link del ${d} 2>/dev/null || true`);
});

test('a worker forwards the frames of a flow after one upcall, from its own cache', opts, async () => {
  await pool!.whenReady();
  const before = upcalls;
  for (let i = 1; i <= 20; i++) send(i);
  const got = await received(400);
  assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(upcalls - before, 1, 'one upcall for the whole flow');
});

test('the worker\'s flow is in its dump, and its counters reach the owner\'s record', opts, async () => {
  const [t] = await pool!.dump();
  assert.equal(t!.coreId, 1);
  const mine = t!.flows.filter((f) => f.fullKey[0] !== undefined && f.actions.some((a) => a.type === 'output' && a.port === 2));
  assert.equal(mine.length, 1);
  assert.equal(mine[0]!.packets, 19, 'the upcalled frame is not counted on its flow, as in OVS');
  await sleep(700);
  const recs = pool!.takeFlowRecords().filter((r) => (r.ref as { rules?: string } | undefined)?.rules === 'r1');
  assert.equal(recs.length, 1);
  assert.equal(recs[0]!.packets, 19);
  assert.ok(recs[0]!.used > 0);
  const stats = pool!.threadStats()[0]!;
  assert.ok(stats.pmd.packets >= 20);
  assert.ok((stats.ports.get(2)?.txPackets ?? 0) >= 20);
});

test('after a tables change the next frame is forwarded by the new translation', opts, async () => {
  for (let round = 0; round < 20; round++) {
    forward = round % 2 === 1;
    const r0 = retranslations;
    pool!.tablesChanged();
    send(1000 + round);
    const got = await received(60);
    assert.deepEqual(got, forward ? [1000 + round] : [], `round ${round}`);
    assert.ok(retranslations > r0, 'the worker translated its flows again');
  }
});

test('after a learning change the worker translates its flows again in the background', opts, async () => {
  forward = true;
  pool!.tablesChanged();
  send(3000);
  assert.deepEqual(await received(100), [3000]);
  forward = false;
  const r0 = retranslations;
  pool!.learningChanged();
  // The flows are re-translated without holding packets up: within a few frames they follow the new answer.
  let dropped = false;
  for (let i = 1; i <= 40 && !dropped; i++) {
    send(3000 + i);
    dropped = (await received(25)).length === 0;
  }
  assert.ok(dropped, 'the new translation took over');
  assert.ok(retranslations > r0);
});

test('a worker that dies is restarted and counted, and forwarding resumes', opts, async () => {
  forward = true;
  pool!.tablesChanged();
  const worker = pool!.workerThreads()[0]!;
  await worker.terminate();
  const deadline = Date.now() + 5000;
  while (pool!.workerThreads()[0] === worker && Date.now() < deadline) await sleep(20);
  await pool!.whenReady();
  assert.equal(pool!.restarts, 1);
  assert.notEqual(pool!.workerThreads()[0], worker);
  let got: number[] = [];
  for (let i = 0; i < 50 && got.length === 0; i++) {
    send(2000 + i);
    got = await received(100);
  }
  assert.ok(got.length > 0, 'the restarted worker forwards');
  assert.ok(warnings.some((w) => /pmd0 exited with code 1; restarting it \(restart 1\)/.test(w)), warnings.join('\n'));
});

test('pmd-cpu-mask: one worker per set bit; absent, malformed or zero means the default', async () => {
  const { pmdWorkersOf } = await import('../../src/vswitchd/bridge.js');
  assert.equal(pmdWorkersOf('0x6'), 2);
  assert.equal(pmdWorkersOf('f0'), 4);
  assert.equal(pmdWorkersOf('0X1'), 1);
  assert.equal(pmdWorkersOf(undefined), null);
  assert.equal(pmdWorkersOf('0'), null);
  assert.equal(pmdWorkersOf('zz'), null);
});

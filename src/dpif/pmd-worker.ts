// A PMD worker (OVS's pmd thread): a worker_thread running its own
// DpifNetdev over the ports it was given. It bursts frames from their native
// handles, classifies and forwards them without leaving the thread, and
// blocks in the addon's wait() when its rings are idle. A miss is a
// synchronous upcall to the main thread, which owns the OpenFlow tables;
// when the tables generation moves, every flow is translated again before
// the next batch, so a barrier reply sent after the move means new
// forwarding. Userspace actions (packet-ins, tunnels, meters) and output to
// ports without a handle go to the main thread as messages.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { loadNative, rxBatch, txBatch, type FrameBatch } from '../native/index.js';
import { DpifNetdev, type DpFlow, type DpPortIo, type UpcallResult } from './dpif-netdev.js';
import type {
  PmdControl, PmdEvent, PmdFlowCounters, PmdFlowDump, PmdPortSpec, PmdReply, PmdUpcallAnswer, PmdWorkerData,
} from './pmd-protocol.js';

const STATS_EVERY_MS = 500;
/** How long the loop keeps polling without sleeping after the last packet (a reply is likely on its way). */
const LINGER_MS = 2;
/** The longest wait() between checks of the control port when nothing wakes the thread. */
const IDLE_WAIT_MS = 50;

const data = workerData as PmdWorkerData;
const port = parentPort!;
const native = loadNative();
let seq = 0;
let gen = Atomics.load(data.gen, 0);
let learnGen = Atomics.load(data.gen, 1);
/** A background re-translation asked for (after a learning change): its request number, flows and tables generation. */
let background: { seq: number; flows: DpFlow[]; gen: number; at: number } | null = null;
let backgroundAnswer: PmdReply | null = null;
let stopping = false;

function post(ev: PmdEvent): void {
  port.postMessage(ev);
}

/** Posts a request and blocks until the main thread answers it (null after the timeout). */
function request(ev: PmdEvent & { seq: number }): PmdReply | null {
  const deadline = performance.now() + data.upcallTimeoutMs;
  Atomics.store(data.signal, 0, 0);
  post(ev);
  for (;;) {
    for (let m = receiveMessageOnPort(data.replies); m; m = receiveMessageOnPort(data.replies)) {
      const r = m.message as PmdReply;
      if (r.seq === ev.seq) return r;
      if (r.seq === background?.seq) backgroundAnswer = r;
      // Other answers belong to requests that timed out.
    }
    const left = deadline - performance.now();
    if (left <= 0) return null;
    // Reset, look once more (an answer posted in between is on the port already), then sleep until the next one.
    Atomics.store(data.signal, 0, 0);
    const m = receiveMessageOnPort(data.replies);
    if (m) {
      const r = m.message as PmdReply;
      if (r.seq === ev.seq) return r;
      if (r.seq === background?.seq) backgroundAnswer = r;
      continue;
    }
    Atomics.wait(data.signal, 0, 0, left);
  }
}

function toResult(a: PmdUpcallAnswer | null): UpcallResult | null {
  return a ? { actions: a.actions, mask: a.mask, install: a.install, ref: a.ref } : null;
}

const dp = new DpifNetdev({
  name: 'ovs-netdev',
  batchSize: data.batchSize,
  upcall: (inPort, key, frame) => {
    const r = request({ t: 'upcall', seq: ++seq, inPort, key: key.slice(), frame: frame.slice() });
    return r && 'answer' in r ? toResult(r.answer) : null;
  },
  userspace: (a, frame, inPort) => post({ t: 'userspace', cookie: a.cookie, inPort, frame: frame.slice() }),
  // After the frames are in: one that arrived after a barrier reply finds the generation that reply waited for.
  received: (now) => checkGeneration(now),
});

function checkGeneration(now: number): void {
  const g = Atomics.load(data.gen, 0);
  if (g === gen) return;
  gen = g;
  retranslate(now);
}

// ------------------------------------------------------------------ ports

const specs = new Map<number, PmdPortSpec>();
const txIdx = new Uint32Array(65536);
let waitSet = new Int32Array([data.waker]);

function nativeIo(spec: PmdPortSpec, handle: number): DpPortIo {
  return {
    rx: spec.rx
      ? (b: FrameBatch) => {
        try {
          return rxBatch(handle, b);
        } catch (e) {
          dropPort(spec, e);
          return 0;
        }
      }
      : () => 0,
    tx: (b, idx, n) => {
      for (let k = 0; k < n; k++) txIdx[k] = idx[k]!;
      try {
        txBatch(handle, b, txIdx, n);
      } catch (e) {
        dropPort(spec, e);
      }
    },
  };
}

/** A port without a handle here (a dummy or tunnel port): its frames are the main thread's to send. */
function relayIo(no: number): DpPortIo {
  return {
    rx: () => 0,
    tx: (b, idx, n) => { for (let k = 0; k < n; k++) post({ t: 'output', port: no, frame: b.frame(idx[k]!).slice() }); },
  };
}

/** A handle that fails (closed under us, device gone) stops being used; the main thread hears why. */
function dropPort(spec: PmdPortSpec, e: unknown): void {
  const p = dp.ports.get(spec.no);
  if (p) p.io = relayIo(spec.no);
  specs.set(spec.no, { ...spec, handle: null, rx: false });
  rebuildWaitSet();
  post({ t: 'port-error', port: spec.no, message: e instanceof Error ? e.message : String(e) });
}

function rebuildWaitSet(): void {
  const rx = [...specs.values()].filter((s) => s.rx && s.handle !== null).map((s) => s.handle!);
  waitSet = Int32Array.from([data.waker, ...rx]);
}

function setPorts(list: readonly PmdPortSpec[]): void {
  const wanted = new Map(list.filter((s) => s.no !== 0).map((s) => [s.no, s]));
  for (const no of [...specs.keys()]) {
    const w = wanted.get(no);
    const old = specs.get(no)!;
    if (!w || w.name !== old.name || w.handle !== old.handle || w.rx !== old.rx || w.type !== old.type || w.tunnel !== old.tunnel) {
      dp.delPort(no);
      specs.delete(no);
    }
  }
  for (const s of wanted.values()) {
    if (specs.has(s.no)) continue;
    dp.addPort(s.name, s.type, s.handle === null ? relayIo(s.no) : nativeIo(s, s.handle), s.no);
    dp.setTunnelPort(s.no, s.tunnel);
    specs.set(s.no, s);
  }
  rebuildWaitSet();
}

// ------------------------------------------------------------------ control

let controlSeen = 0;

function drainControl(): void {
  // Reading the port costs more than a batch of small frames: only when the main thread has posted something.
  const posted = Atomics.load(data.signal, 1);
  if (posted === controlSeen) return;
  controlSeen = posted;
  for (let m = receiveMessageOnPort(data.control); m; m = receiveMessageOnPort(data.control)) {
    const c = m.message as PmdControl;
    switch (c.t) {
      case 'ports': setPorts(c.ports); break;
      case 'config': dp.configure(c); break;
      case 'flush': dp.flushFlows(); break;
      case 'dump': post({ t: 'dump', id: c.id, flows: dp.flows().map(dumpOf) }); break;
      case 'stop': stopping = true; break;
    }
  }
}

function dumpOf(f: DpFlow): PmdFlowDump {
  const now = performance.now();
  return {
    key: f.key, mask: f.mask, fullKey: f.fullKey, actions: f.actions, packets: f.packets, bytes: f.bytes,
    usedAgo: f.used ? now - f.used : null, createdAgo: now - f.created, tcpFlags: f.tcpFlags,
  };
}

/**
 * After a learning change: asks for every flow's translation without waiting
 * (one request for all of them), and applies the answers when they come; a
 * flow made in between keeps what it has (it was translated after the change).
 */
function learningChanged(): void {
  const l = Atomics.load(data.gen, 1);
  if (l === learnGen || background) return;
  learnGen = l;
  const flows = dp.flows();
  if (flows.length === 0) return;
  background = { seq: ++seq, flows, gen, at: performance.now() };
  post({ t: 'retranslate', seq: background.seq, flows: flows.map((f) => ({ ref: f.ref as number, key: f.fullKey })) });
}

function applyBackground(now: number): void {
  if (!background) return;
  if (!backgroundAnswer) {
    const m = receiveMessageOnPort(data.replies);
    if (!m) {
      // An answer that never comes must not stop later re-translations (the next learning change asks again).
      if (now - background.at > 2 * data.upcallTimeoutMs) background = null;
      return;
    }
    const r = m.message as PmdReply;
    if (r.seq !== background.seq) return;
    backgroundAnswer = r;
  }
  const { flows, gen: asked } = background;
  const r = backgroundAnswer;
  background = null;
  backgroundAnswer = null;
  // A tables change since the question made every flow translate again already.
  if (asked !== gen || !('answers' in r)) return;
  const answers = new Map<DpFlow, UpcallResult | null>();
  flows.forEach((f, i) => answers.set(f, toResult(r.answers[i] ?? null)));
  dp.tablesChanged();
  dp.revalidate(now, (f) => (answers.has(f) ? answers.get(f)! : { actions: f.actions, mask: f.mask, ref: f.ref }));
}

/** The tables moved: translate every flow again (one round trip for all of them) before the next packet. */
function retranslate(now: number): void {
  background = null;
  backgroundAnswer = null;
  learnGen = Atomics.load(data.gen, 1);
  const flows = dp.flows();
  dp.tablesChanged();
  if (flows.length === 0) {
    dp.revalidate(now, () => null);
    return;
  }
  const r = request({ t: 'retranslate', seq: ++seq, flows: flows.map((f) => ({ ref: f.ref as number, key: f.fullKey })) });
  const answers = new Map<DpFlow, UpcallResult | null>();
  if (r && 'answers' in r) flows.forEach((f, i) => answers.set(f, toResult(r.answers[i] ?? null)));
  dp.revalidate(now, (f) => answers.get(f) ?? null);
}

// ------------------------------------------------------------------ statistics

let reported = new Set<DpFlow>();
let idleNs = 0;
const started = performance.now();

function counters(f: DpFlow, now: number): PmdFlowCounters {
  return [f.ref as number, f.packets, f.bytes, f.used ? now - f.used : -1];
}

function report(now: number): void {
  dp.takeRemoved();   // gone flows are found below by comparison with the last report (those that never forwarded too)
  const flows = dp.flows();
  const current = new Set(flows);
  const gone: PmdFlowCounters[] = [];
  for (const f of reported) if (!current.has(f)) gone.push(counters(f, now));
  reported = current;
  post({
    t: 'stats',
    live: flows.map((f) => counters(f, now)),
    gone,
    pmd: { ...dp.stats },
    ports: [...dp.ports.values()].filter((p) => p.no !== 0).map((p) => [p.no, { ...p.stats }] as const),
    idleNs,
    wallNs: Math.round((now - started) * 1e6),
    flows: dp.flowCount,
    masks: dp.masks,
    revalidation: { ...dp.revalidation },
  });
}

// ------------------------------------------------------------------ the loop

function run(): void {
  let lastTraffic = -Infinity;
  let lastReport = performance.now();
  while (!stopping) {
    drainControl();
    if (stopping) break;
    let now = performance.now();
    const n = dp.poll(now);
    now = performance.now();
    learningChanged();
    applyBackground(now);
    if (n > 0) {
      lastTraffic = now;
    } else if (now - lastTraffic > LINGER_MS) {
      native.wait(waitSet, IDLE_WAIT_MS);
      const after = performance.now();
      idleNs += Math.round((after - now) * 1e6);
      now = after;
    }
    if (now - lastReport >= STATS_EVERY_MS) {
      lastReport = now;
      dp.revalidate(now, (f) => ({ actions: f.actions, mask: f.mask, ref: f.ref }));
      report(now);
    }
  }
  report(performance.now());
}

post({ t: 'ready' });
run();

// The PMD workers seen from the main thread (OVS's pmd threads and the
// dp_netdev side that feeds them): a pool of worker_threads, each polling
// the receive handles assigned to it and keeping its own megaflow and
// exact-match caches. The pool answers their upcalls and re-translations
// with the owner's functions, relays their userspace actions, gathers their
// flow statistics for the OpenFlow rules, and restarts a worker that dies
// (counted, logged). A tables change is one atomic increment of a shared
// generation that each worker checks after receiving and before
// classifying, so nothing has to wait for a worker before a barrier reply.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closeHandle, loadNative } from '../native/index.js';
import type { DpAction } from './actions.js';
import type { DpifNetdevStats, DpPortStats, UpcallResult } from './dpif-netdev.js';
import type { DumpableFlow } from './format.js';
import type { TunnelKind } from './tunnel-header.js';
import type {
  PmdControl, PmdEvent, PmdFlowCounters, PmdPortSpec, PmdReply, PmdUpcallAnswer, PmdWorkerData,
} from './pmd-protocol.js';

export interface PmdPoolOptions {
  /** Worker threads (at least 1). */
  workers: number;
  /** Translates a miss (on the main thread); `ref` in the result is the owner's record of the flow. */
  upcall: (inPort: number, key: Uint32Array, frame: Uint8Array) => UpcallResult | null;
  /** Translates an installed flow again after a tables change; `ref` is what the last translation returned. */
  retranslate: (fullKey: Uint32Array, ref: unknown) => UpcallResult | null;
  /** A userspace action a worker executed (a packet-in, a tunnel, a metered flow). */
  userspace: (cookie: number, frame: Uint8Array, inPort: number) => void;
  /** A frame a worker sent to a port it has no handle for. */
  output: (port: number, frame: Uint8Array) => void;
  /** After the pool handled a batch of worker events (the owner drains what they queued). */
  settled?: () => void;
  /** Warnings worth a log line (a worker died, a port failed). */
  warn?: (message: string) => void;
  /** Called each time a dead worker is started again (the owner counts it). */
  restarted?: () => void;
  clock?: () => number;
  batchSize?: number;
  /** How long a worker waits for an upcall's answer before dropping the packet (default 2000 ms). */
  upcallTimeoutMs?: number;
}

/** A port the pool knows: `handle` for native ports (a worker receives from them), null for the rest. */
export interface PmdPort {
  readonly no: number;
  readonly name: string;
  readonly type: string;
  readonly handle: number | null;
  /** A tunnel port: the headers tnl_pop takes off for it. */
  readonly tunnel?: TunnelKind | null;
}

/** The counters a worker reported last (dpif-netdev/pmd-stats-show, dpctl/show). */
export interface PmdThreadStats {
  readonly id: number;
  readonly coreId: number;
  readonly pmd: DpifNetdevStats;
  readonly idleNs: number;
  readonly flows: number;
  readonly masks: number;
  readonly ports: ReadonlyMap<number, DpPortStats>;
  readonly revalidation: { readonly runs: number; readonly deleted: number; readonly modified: number; readonly lastMs: number };
}

/** A worker flow's owner record and what the worker last said it forwarded. */
export interface PmdFlowRecord {
  ref: unknown;
  actions: readonly DpAction[];
  packets: number;
  bytes: number;
  /** Main-thread clock ms of the last packet; 0 = never. */
  used: number;
  readonly worker: number;
}

/** A worker's clock and busy times at one report (pmd-rxq-show's usage is over the last minute of them). */
interface Sample {
  readonly wallNs: number;
  readonly busyNs: number;
  readonly ports: ReadonlyMap<number, number>;
}

/** Reports kept: a minute of them at two a second. */
const HISTORY = 121;

interface Thread {
  readonly id: number;
  readonly history: Sample[];
  worker: Worker;
  control: MessagePort;
  replies: MessagePort;
  signal: Int32Array;
  waker: number;
  started: number;
  /** Deaths in a row each soon after its start. */
  readonly quickDeaths: number;
  /** The worker has loaded and entered its loop. */
  ready: boolean;
  stats: PmdThreadStats | null;
  readonly dumps: Map<number, (flows: DumpableFlow[]) => void>;
}

const QUICK_DEATH_MS = 1000;
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5000;

/**
 * The worker's entry: the built pmd-worker.js next to this file, or, when
 * this file runs as TypeScript (tests under tsx, whose loader hooks a worker
 * does not inherit), a small script that registers tsx and imports the .ts.
 */
function workerEntry(): [URL | string, { eval?: boolean }] {
  const ts = new URL('./pmd-worker.ts', import.meta.url);
  if (!import.meta.url.endsWith('.ts') || !existsSync(fileURLToPath(ts))) return [new URL('./pmd-worker.js', import.meta.url), {}];
  const api = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  return [`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts.href)}); });`, { eval: true }];
}

export class PmdPool {
  /** [0]: the tables generation the workers follow; [1]: the learning generation. */
  private readonly gen = new Int32Array(new SharedArrayBuffer(8));
  private readonly threads: Thread[] = [];
  private readonly ports = new Map<number, PmdPort>();
  /** Which worker receives from each native port. */
  private readonly rxOwner = new Map<number, number>();
  private readonly records = new Map<number, PmdFlowRecord>();
  private gone: PmdFlowRecord[] = [];
  private nextRef = 1;
  private nextDump = 1;
  private config: Extract<PmdControl, { t: 'config' }> | null = null;
  private closed = false;
  private readonly readyWaiters: Array<() => void> = [];
  private readonly clock: () => number;
  /** Workers that died and were started again. */
  restarts = 0;

  constructor(private readonly opts: PmdPoolOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`PMD worker count ${opts.workers} must be a positive integer`);
    this.clock = opts.clock ?? (() => performance.now());
    for (let id = 0; id < opts.workers; id++) this.threads.push(this.spawn(id));
  }

  get size(): number {
    return this.threads.length;
  }

  private spawn(id: number, quickDeaths = 0): Thread {
    const native = loadNative();
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const control = new MessageChannel();
    const replies = new MessageChannel();
    const waker = native.wakerOpen();
    const data: PmdWorkerData = {
      id, gen: this.gen, signal, control: control.port2, replies: replies.port2, waker,
      batchSize: this.opts.batchSize ?? 256, upcallTimeoutMs: this.opts.upcallTimeoutMs ?? 2000,
    };
    const [entry, how] = workerEntry();
    const worker = new Worker(entry, { ...how, workerData: data, transferList: [control.port2, replies.port2], name: `pmd${id}` });
    const t: Thread = {
      id, history: [], worker, control: control.port1, replies: replies.port1, signal, waker, started: Date.now(), stats: null, dumps: new Map(), quickDeaths, ready: false,
    };
    worker.on('message', (ev: PmdEvent) => this.onEvent(t, ev));
    worker.on('error', (e) => this.opts.warn?.(`pmd${id}: ${e instanceof Error ? e.message : String(e)}`));
    worker.on('exit', (code) => this.onExit(t, code));
    worker.unref();
    this.sendPorts(t);
    if (this.config) this.send(t, this.config);
    return t;
  }

  private onExit(t: Thread, code: number): void {
    for (const done of t.dumps.values()) done([]);
    t.dumps.clear();
    try { closeHandle(t.waker); } catch { /* already closed */ }
    if (this.closed) return;
    // Its flows are gone with it: their statistics since the last report are lost, their records must not linger.
    for (const [ref, r] of this.records) if (r.worker === t.id) this.records.delete(ref);
    this.restarts++;
    // One that dies at once (a broken build, a failing device) is restarted ever more slowly; otherwise at once.
    const quick = Date.now() - t.started < QUICK_DEATH_MS;
    const deaths = quick ? t.quickDeaths + 1 : 0;
    const delay = quick ? Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (deaths - 1)) : 0;
    this.opts.warn?.(`pmd${t.id} exited with code ${code}; restarting it${delay ? ` in ${delay} ms` : ''} (restart ${this.restarts})`);
    const timer = setTimeout(() => {
      if (this.closed) return;
      this.threads[t.id] = this.spawn(t.id, deaths);
      this.opts.restarted?.();
    }, delay);
    timer.unref();
  }

  private send(t: Thread, c: PmdControl): void {
    t.control.postMessage(c);
    Atomics.add(t.signal, 1, 1);
    try { loadNative().wake(t.waker); } catch { /* the worker is exiting */ }
  }

  private sendPorts(t: Thread): void {
    const list: PmdPortSpec[] = [...this.ports.values()].map((p) => ({
      no: p.no, name: p.name, type: p.type, handle: p.handle, rx: p.handle !== null && this.rxOwner.get(p.no) === t.id, tunnel: p.tunnel ?? null,
    }));
    this.send(t, { t: 'ports', ports: list });
  }

  // ------------------------------------------------------------ control

  /** The datapath's ports (all of them: workers send to any). Native ports are spread over the workers to receive from. */
  setPorts(ports: readonly PmdPort[]): void {
    this.ports.clear();
    for (const p of ports) if (p.no !== 0) this.ports.set(p.no, p);
    for (const no of [...this.rxOwner.keys()]) if (this.ports.get(no)?.handle == null) this.rxOwner.delete(no);
    for (const p of this.ports.values()) {
      if (p.handle === null || this.rxOwner.has(p.no)) continue;
      const load = this.threads.map((t) => [...this.rxOwner.values()].filter((w) => w === t.id).length);
      this.rxOwner.set(p.no, load.indexOf(Math.min(...load)));
    }
    for (const t of this.threads) this.sendPorts(t);
  }

  /** Resolves once every worker has loaded and is polling (or at once when they all are). */
  whenReady(timeoutMs = 30_000): Promise<void> {
    if (this.threads.every((t) => t.ready)) return Promise.resolve();
    // The workers are unref'd: this timer keeps the process waiting for them.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PMD workers not ready after ${timeoutMs} ms`)), timeoutMs);
      this.readyWaiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }

  /** Which worker receives from port `no` (undefined: none). */
  rxWorker(no: number): number | undefined {
    return this.rxOwner.get(no);
  }

  /** Anything translations depend on changed: every worker re-translates its flows before its next batch. */
  tablesChanged(): void {
    Atomics.add(this.gen, 0, 1);
  }

  /**
   * What NORMAL learned changed (a MAC learned, moved or aged out): the workers translate their flows again
   * in the background, forwarding by the flows they have until the answers come (OVS's revalidators do the same).
   */
  learningChanged(): void {
    Atomics.add(this.gen, 1, 1);
  }

  configure(c: { flowLimit: number; maxIdleMs: number; emcInsertInvProb: number }): void {
    this.config = { t: 'config', ...c };
    for (const t of this.threads) this.send(t, this.config);
  }

  /** Deletes every worker flow (their statistics since the last report are credited on the next one). */
  flush(): void {
    for (const t of this.threads) this.send(t, { t: 'flush' });
  }

  /** Each worker's flows, as DpFlow values on this thread's clock (a worker that does not answer in time gives none). */
  async dump(timeoutMs = 2000): Promise<Array<{ coreId: number; flows: DumpableFlow[] }>> {
    return Promise.all(this.threads.map((t) => new Promise<{ coreId: number; flows: DumpableFlow[] }>((resolve) => {
      const id = this.nextDump++;
      const timer = setTimeout(() => { t.dumps.delete(id); resolve({ coreId: coreOf(t.id), flows: [] }); }, timeoutMs);
      t.dumps.set(id, (flows) => { clearTimeout(timer); resolve({ coreId: coreOf(t.id), flows }); });
      this.send(t, { t: 'dump', id });
    })));
  }

  /** What each worker reported last. */
  threadStats(): PmdThreadStats[] {
    return this.threads.map((t) => t.stats ?? {
      id: t.id, coreId: coreOf(t.id), pmd: emptyStats(), idleNs: 0, flows: 0, masks: 0, ports: new Map(),
      revalidation: { runs: 0, deleted: 0, modified: 0, lastMs: 0 },
    });
  }

  /** Worker flows with their latest counters, those deleted since the last call included (then forgotten). */
  takeFlowRecords(): PmdFlowRecord[] {
    const out = [...this.records.values(), ...this.gone];
    this.gone = [];
    return out;
  }

  /** For tests: the worker objects (terminating one is how a crash is simulated). */
  workerThreads(): Worker[] {
    return this.threads.map((t) => t.worker);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.threads.map(async (t) => {
      this.send(t, { t: 'stop' });
      const exited = new Promise<void>((resolve) => t.worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void t.worker.terminate(), 1000);
      await exited;
      clearTimeout(timer);
    }));
  }

  // ------------------------------------------------------------ worker events

  private onEvent(t: Thread, ev: PmdEvent): void {
    switch (ev.t) {
      case 'ready':
        t.ready = true;
        if (this.threads.every((x) => x.ready)) for (const w of this.readyWaiters.splice(0)) w();
        break;
      case 'upcall': {
        let answer: PmdUpcallAnswer | null = null;
        try {
          const r = this.opts.upcall(ev.inPort, ev.key, ev.frame);
          if (r) answer = this.answer(t, r, 0);
        } catch {
          answer = null;
        }
        this.reply(t, { seq: ev.seq, answer });
        break;
      }
      case 'retranslate': {
        const answers = ev.flows.map(({ ref, key }) => {
          const rec = this.records.get(ref);
          try {
            const r = this.opts.retranslate(key, rec?.ref);
            return r ? this.answer(t, r, rec ? ref : 0) : null;
          } catch {
            return null;
          }
        });
        this.reply(t, { seq: ev.seq, answers });
        break;
      }
      case 'userspace':
        this.opts.userspace(ev.cookie, ev.frame, ev.inPort);
        break;
      case 'output':
        this.opts.output(ev.port, ev.frame);
        break;
      case 'stats':
        this.onStats(t, ev);
        break;
      case 'dump': {
        const done = t.dumps.get(ev.id);
        t.dumps.delete(ev.id);
        const now = this.clock();
        done?.(ev.flows.map((f): DumpableFlow => ({
          key: f.key, mask: f.mask, fullKey: f.fullKey, actions: f.actions, packets: f.packets, bytes: f.bytes,
          used: f.usedAgo === null ? 0 : Math.max(1e-9, now - f.usedAgo), tcpFlags: f.tcpFlags,
        })));
        break;
      }
      case 'port-error':
        this.opts.warn?.(`pmd${t.id}: port ${this.ports.get(ev.port)?.name ?? ev.port}: ${ev.message}`);
        break;
    }
    this.opts.settled?.();
  }

  /** An answer for a worker: installed flows get a record (reusing `ref` when re-translated). */
  private answer(t: Thread, r: UpcallResult, ref: number): PmdUpcallAnswer {
    const install = r.install !== false;
    if (!install) {
      if (ref) this.records.delete(ref);
      return { actions: r.actions, mask: r.mask, install, ref: 0 };
    }
    const id = ref || this.nextRef++;
    const old = this.records.get(id);
    if (old) {
      old.ref = r.ref;
      old.actions = r.actions;
    } else {
      this.records.set(id, { ref: r.ref, actions: r.actions, packets: 0, bytes: 0, used: 0, worker: t.id });
    }
    return { actions: r.actions, mask: r.mask, install, ref: id };
  }

  private reply(t: Thread, r: PmdReply): void {
    t.replies.postMessage(r);
    Atomics.store(t.signal, 0, 1);
    Atomics.notify(t.signal, 0);
  }

  private onStats(t: Thread, ev: Extract<PmdEvent, { t: 'stats' }>): void {
    const now = this.clock();
    const apply = (c: PmdFlowCounters): PmdFlowRecord | undefined => {
      const rec = this.records.get(c[0]);
      if (!rec) return undefined;
      rec.packets = c[1];
      rec.bytes = c[2];
      if (c[3] >= 0) rec.used = Math.max(1e-9, now - c[3]);
      return rec;
    };
    for (const c of ev.live) apply(c);
    for (const c of ev.gone) {
      const rec = apply(c);
      if (!rec) continue;
      this.records.delete(c[0]);
      this.gone.push(rec);
    }
    t.stats = {
      id: t.id, coreId: coreOf(t.id), pmd: ev.pmd, idleNs: ev.idleNs, flows: ev.flows, masks: ev.masks,
      ports: new Map(ev.ports), revalidation: ev.revalidation,
    };
    t.history.push({ wallNs: ev.wallNs, busyNs: ev.pmd.busyNs, ports: new Map(ev.ports.map(([no, s]) => [no, s.rxBusyNs])) });
    if (t.history.length > HISTORY) t.history.shift();
  }

  /**
   * `dpif-netdev/pmd-rxq-show`: each worker's receive queues (one per
   * port, queue 0) with the share of the worker's time spent on each over
   * the last minute, and the busy time no queue accounts for.
   */
  rxqShow(): string {
    let out = 'Displaying last 60 seconds pmd usage %\n';
    for (const t of [...this.threads].sort((a, b) => a.id - b.id)) {
      out += `pmd thread numa_id 0 core_id ${coreOf(t.id)}:\n  isolated : false\n`;
      const first = t.history[0];
      const last = t.history[t.history.length - 1];
      const wall = first && last ? last.wallNs - first.wallNs : 0;
      const pct = (ns: number): string => (wall > 0 ? `${Math.round((100 * ns) / wall).toString().padStart(2)} %` : 'NOT AVAIL');
      const mine = [...this.ports.values()].filter((p) => p.handle !== null && this.rxOwner.get(p.no) === t.id)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      let portsBusy = 0;
      for (const p of mine) {
        const busy = first && last ? (last.ports.get(p.no) ?? 0) - (first.ports.get(p.no) ?? 0) : 0;
        portsBusy += busy;
        out += `  port: ${p.name.padEnd(16)}  queue-id: ${' 0'} (enabled)   pmd usage: ${pct(busy)}\n`;
      }
      if (mine.length) out += `  overhead: ${pct(Math.max(0, (first && last ? last.busyNs - first.busyNs : 0) - portsBusy))}\n`;
    }
    return out;
  }
}

/** Core ids as OVS would show them with the default mask on this machine: core 0 stays the main thread's. */
function coreOf(id: number): number {
  return id + 1;
}

function emptyStats(): DpifNetdevStats {
  return {
    packets: 0, emcHits: 0, megaflowHits: 0, subtableLookups: 0, missSuccess: 0, missFailed: 0, lost: 0,
    outputBatches: 0, outputPackets: 0, busyNs: 0, noRoom: 0, recirculations: 0,
  };
}

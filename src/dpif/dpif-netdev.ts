// The userspace datapath (OVS's dpif-netdev): ports with datapath port
// numbers, and the per-batch fast path: extract each frame's flow key, look
// it up in the exact-match cache, then the megaflow classifier, and on a
// miss ask the owner (the upcall: xlate runs the OpenFlow tables) for
// actions and a wildcard mask, installed as a megaflow so the rest of the
// class never upcalls. Packets of a batch that hit the same flow are
// grouped and its actions run once per group; outputs are sent once per
// port per batch. Revalidation ages flows (max-idle), keeps flow-limit, and
// after tablesChanged() re-translates every megaflow before the next packet,
// so a barrier reply can wait for revalidateNow() and mean new forwarding.

import { extractFlow, newFlowKey } from '../flow/index.js';
import { BATCH_MAX, FRAME_MAX, FrameBatch, HEADROOM } from '../native/batch.js';
import { DpifError, sameActions, type DpAction } from './actions.js';
import { Dpcls, ExactMatchCache, emcHash, type ClassifiedFlow } from './dpcls.js';
import { compileActions, execute, type ExecEnv, type Program } from './program.js';
import {
  GENEVE_MAX_OPTS, clearGeneveOptions, parseTunnelFrame, putRawGeneveOptions, type TunnelKind, type TunnelMetadata,
} from './tunnel-header.js';
import { DP_KEY_WORDS, K } from './words.js';

/** How a port moves frames: what a netdev gives the datapath. */
export interface DpPortIo {
  /** Fills `batch` (from its current count) with received frames; returns how many were added. */
  rx(batch: FrameBatch): number;
  /** Sends frames idx[0..n) of the batch; must be done with them (copied or sent) before returning. */
  tx(batch: FrameBatch, idx: Uint16Array, n: number): void;
}

export interface DpPortStats {
  rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; txDropped: number;
  /** Nanoseconds spent processing what was received on the port (dpif-netdev/pmd-rxq-show's usage). */
  rxBusyNs: number;
}

export interface DpPort {
  readonly no: number;
  readonly name: string;
  /** As dpctl/show prints it: `system`, `tap`, `dummy`, `dummy-internal`, ... */
  readonly type: string;
  io: DpPortIo | null;
  readonly stats: DpPortStats;
}

/** What the owner answers to an upcall. */
export interface UpcallResult {
  readonly actions: readonly DpAction[];
  /** Every flow-key bit the translation looked at (the megaflow's mask). */
  readonly mask: Uint32Array;
  /** false: execute for this packet only, install nothing (OVS's slow path, e.g. learn). */
  readonly install?: boolean;
  /** The owner's own value kept with the flow (the rules to credit with its statistics, say). */
  readonly ref?: unknown;
}

/**
 * A miss: the packet's key (in_port is the datapath port) and frame, both
 * valid only during the call. The datapath executes the returned actions on
 * the packet itself; null drops it (a failed upcall).
 */
export type UpcallFn = (inPort: number, key: Uint32Array, frame: Uint8Array) => UpcallResult | null;

/** Re-translation of an installed flow after the tables changed; null deletes it. */
export type RetranslateFn = (flow: DpFlow) => UpcallResult | null;

export interface DpFlow extends ClassifiedFlow {
  /** The key of the packet whose upcall made the flow (what revalidation translates again). */
  readonly fullKey: Uint32Array;
  actions: readonly DpAction[];
  prog: Program;
  ref: unknown;
  packets: number;
  bytes: number;
  /** Last packet, in the datapath clock's milliseconds; 0 = never. */
  used: number;
  tcpFlags: number;
  readonly created: number;
  batchEpoch: number;
  batchGroup: number;
}

export interface DpifNetdevOptions {
  /** Datapath name (dpctl prints `netdev@NAME`); OVS's is ovs-netdev. */
  name?: string;
  upcall: UpcallFn;
  retranslate?: RetranslateFn;
  /** A userspace action on a packet (the owner copies what it keeps). */
  userspace?: (action: Extract<DpAction, { type: 'userspace' }>, frame: Uint8Array, inPort: number) => void;
  /** Whether meter `id` lets a packet of `bytes` through now (default: every packet passes). */
  meter?: (id: number, bytes: number, now: number) => boolean;
  /** other_config:flow-limit (OVS's default 200000). */
  flowLimit?: number;
  /** other_config:max-idle in ms (default 10000). */
  maxIdleMs?: number;
  /** other_config:emc-insert-inv-prob: 1 in N megaflow hits enter the EMC; 0 disables it (default 100). */
  emcInsertInvProb?: number;
  /** Milliseconds; default performance.now(). */
  clock?: () => number;
  /** Port numbers as OVS's dummy datapath picks them ("br*" from 100, a number in the name); default: lowest free. */
  dummyNumbering?: boolean;
  /** dpctl type of port 0, the datapath's own internal port (default `tap`). */
  localPortType?: string;
  /** Frames per received batch (default BATCH_MAX). */
  batchSize?: number;
  /** Called by poll() after a port's frames are in and before they are classified (a PMD checks for table changes here). */
  received?: (now: number) => void;
}

/** Counters as `dpif-netdev/pmd-stats-show` and `dpctl/show` report them. */
export interface DpifNetdevStats {
  packets: number;
  emcHits: number;
  megaflowHits: number;
  /** Subtables searched over all megaflow hits. */
  subtableLookups: number;
  missSuccess: number;
  missFailed: number;
  lost: number;
  outputBatches: number;
  outputPackets: number;
  /** Nanoseconds spent in processBatch (OVS counts cycles; tsw reports time). */
  busyNs: number;
  /** Packets dropped for want of buffer room to push a header. */
  noRoom: number;
  /** Packets that went through the datapath again after a tnl_pop. */
  recirculations: number;
}

const IP = 0x0800;
const IPV6 = 0x86dd;
const MAX_PORT = 0xffff;
const ZERO_INDEX = Uint16Array.of(0);

export class DpifNetdev {
  readonly name: string;
  readonly ports = new Map<number, DpPort>();
  readonly stats: DpifNetdevStats = {
    packets: 0, emcHits: 0, megaflowHits: 0, subtableLookups: 0, missSuccess: 0, missFailed: 0, lost: 0,
    outputBatches: 0, outputPackets: 0, busyNs: 0, noRoom: 0, recirculations: 0,
  };
  flowLimit: number;
  maxIdleMs: number;
  emcInsertInvProb: number;
  /** Revalidation passes run, and flows they deleted or changed (upcall/show). */
  readonly revalidation = { runs: 0, deleted: 0, modified: 0, lastMs: 0 };

  private readonly dpcls = new Dpcls<DpFlow>();
  private readonly emc = new ExactMatchCache<DpFlow>();
  private readonly upcallFn: UpcallFn;
  private readonly retranslateFn: RetranslateFn | undefined;
  private readonly userspaceFn: DpifNetdevOptions['userspace'];
  private readonly meterFn: DpifNetdevOptions['meter'];
  private readonly clock: () => number;
  private readonly dummyNumbering: boolean;
  private readonly receivedFn: ((now: number) => void) | undefined;
  private tablesDirty = false;
  private epoch = 0;
  private emcCounter = 0;
  private readonly rxBatch: FrameBatch;
  /** executePacket's batch and compiled programs (keyed by the owner's action lists, which it keeps while the flow lives). */
  private readonly execBatch = new FrameBatch(1, FRAME_MAX + 4 * HEADROOM);
  private readonly programs = new WeakMap<readonly DpAction[], Program>();
  private executing = false;
  private readonly execEnv = this.newExecEnv();
  /** Tunnel ports (tnl_pop targets) and the kind of header each takes off. */
  private readonly tunnelKinds = new Map<number, TunnelKind>();
  /** Decapsulated frames waiting to go through again, with their tunnel metadata (4 words each: tun_id, tun_src, tun_dst). */
  private recircIn = new FrameBatch(BATCH_MAX);
  private recircWork = new FrameBatch(BATCH_MAX);
  private tunIn = new Uint32Array(BATCH_MAX * 4);
  private tunWork = new Uint32Array(BATCH_MAX * 4);
  /** Their Geneve options as received (a side area: only decapsulated frames have one), and each one's length. */
  private optsIn = new Uint8Array(BATCH_MAX * GENEVE_MAX_OPTS);
  private optsWork = new Uint8Array(BATCH_MAX * GENEVE_MAX_OPTS);
  private optsLenIn = new Uint8Array(BATCH_MAX);
  private optsLenWork = new Uint8Array(BATCH_MAX);
  /** Whether this.key's option space was last written by a packet with options. */
  private keyHasOpts = false;
  private readonly emptyBatch = new FrameBatch(1, FRAME_MAX + HEADROOM);
  private readonly tunParse: TunnelMetadata = { ipSrc: 0, ipDst: 0, udpDst: 0, key: 0, keyPresent: false, inner: 0, optsAt: 0, optsLen: 0 };

  // Per-batch scratch, sized for the largest batch (no allocation per packet).
  private readonly key = newFlowKey();
  private readonly nextIdx = new Int32Array(65536);
  private readonly fromUpcall = new Uint8Array(65536);
  private readonly pktFlags = new Uint16Array(65536);
  private readonly groupFlow: (DpFlow | null)[] = [];
  private readonly groupHead = new Int32Array(65536);
  private readonly groupTail = new Int32Array(65536);
  private readonly idx = new Uint16Array(65536);
  private readonly env: ExecEnv & { pending: Map<number, { q: Uint16Array; n: number }>; batch: FrameBatch | null; inPort: number };

  constructor(opts: DpifNetdevOptions) {
    this.name = opts.name ?? 'ovs-netdev';
    this.upcallFn = opts.upcall;
    this.retranslateFn = opts.retranslate;
    this.userspaceFn = opts.userspace;
    this.meterFn = opts.meter;
    this.flowLimit = opts.flowLimit ?? 200_000;
    this.maxIdleMs = opts.maxIdleMs ?? 10_000;
    this.emcInsertInvProb = opts.emcInsertInvProb ?? 100;
    this.clock = opts.clock ?? (() => performance.now());
    this.dummyNumbering = opts.dummyNumbering ?? false;
    this.receivedFn = opts.received;
    this.rxBatch = new FrameBatch(opts.batchSize ?? BATCH_MAX);
    this.ports.set(0, { no: 0, name: this.name, type: opts.localPortType ?? 'tap', io: null, stats: newPortStats() });
    const pending = new Map<number, { q: Uint16Array; n: number }>();
    this.env = {
      floor: new Uint32Array(65536),
      tail: { at: 0 },
      noRoom: 0,
      pending,
      batch: null,
      inPort: 0,
      outputNow: (port, batch, idx, n) => { this.flushPort(port, batch); this.transmit(port, batch, idx, n); },
      outputLater: (port, batch, i) => {
        let p = pending.get(port);
        if (!p) { p = { q: new Uint16Array(batch.capacity * 2), n: 0 }; pending.set(port, p); }
        if (p.n === p.q.length) this.flushPort(port, batch);
        p.q[p.n++] = i;
      },
      userspace: (a, batch, i) => { this.userspaceFn?.(a, batch.frame(i), batch.port[i]!); },
      meter: (id, bytes, now) => (this.meterFn ? this.meterFn(id, bytes, now) : true),
      clone: (prog, batch, i, now) => this.executeProgram(batch.frame(i), batch.port[i]!, prog, now),
      tnlPop: (port, batch, i) => this.tnlPop(port, batch, i),
    };
  }

  /** Makes datapath port `no` a tunnel port that tnl_pop decapsulates `kind` frames for (null: no longer one). */
  setTunnelPort(no: number, kind: TunnelKind | null): void {
    if (kind) this.tunnelKinds.set(no, kind);
    else this.tunnelKinds.delete(no);
  }

  /** tnl_pop: the inner frame of a valid tunnel frame is queued with its metadata; anything else is dropped. */
  private tnlPop(port: number, batch: FrameBatch, i: number): void {
    const kind = this.tunnelKinds.get(port);
    const m = this.tunParse;
    const off = batch.off[i]!;
    const len = batch.len[i]!;
    if (!kind || !parseTunnelFrame(batch.buf, off, len, kind, m)) return;
    const q = this.recircIn;
    if (!q.push(batch.buf.subarray(off + m.inner, off + len), port)) {
      this.stats.lost++;
      return;
    }
    const t = (q.count - 1) * 4;
    this.tunIn[t] = 0;
    this.tunIn[t + 1] = m.key >>> 0;
    this.tunIn[t + 2] = m.ipSrc >>> 0;
    this.tunIn[t + 3] = m.ipDst >>> 0;
    const optsLen = m.optsLen ?? 0;
    this.optsLenIn[q.count - 1] = optsLen;
    if (optsLen) this.optsIn.set(batch.buf.subarray(off + (m.optsAt ?? 0), off + (m.optsAt ?? 0) + optsLen), (q.count - 1) * GENEVE_MAX_OPTS);
    const p = this.ports.get(port);
    if (p) { p.stats.rxPackets++; p.stats.rxBytes += len - m.inner; }
  }

  /** Runs the decapsulated frames through the datapath again (a tunnel inside a tunnel gives up after a few rounds). */
  private drainRecirc(now: number): void {
    for (let round = 0; round < 4 && this.recircIn.count > 0; round++) {
      [this.recircIn, this.recircWork] = [this.recircWork, this.recircIn];
      [this.tunIn, this.tunWork] = [this.tunWork, this.tunIn];
      [this.optsIn, this.optsWork] = [this.optsWork, this.optsIn];
      [this.optsLenIn, this.optsLenWork] = [this.optsLenWork, this.optsLenIn];
      this.recircIn.clear();
      this.stats.recirculations += this.recircWork.count;
      this.runBatch(this.recircWork, now, this.tunWork);
    }
    this.recircIn.clear();
  }

  // ---------------------------------------------------------------- ports

  /** Adds a port and returns its datapath number (`requested` if free, else OVS's choice). */
  addPort(name: string, type: string, io: DpPortIo | null, requested?: number): number {
    for (const p of this.ports.values()) if (p.name === name) throw new DpifError(`datapath ${this.name} already has a port named ${name}`);
    let no: number;
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1 || requested > MAX_PORT) throw new DpifError(`port number ${requested} out of range 1..${MAX_PORT}`);
      if (this.ports.has(requested)) throw new DpifError(`port number ${requested} is taken by ${this.ports.get(requested)!.name}`);
      no = requested;
    } else {
      no = this.choosePort(name);
    }
    this.ports.set(no, { no, name, type, io, stats: newPortStats() });
    return no;
  }

  /** OVS's choose_port: the dummy datapath's predictable numbers, else the lowest free one. */
  private choosePort(name: string): number {
    if (this.dummyNumbering) {
      const start = name.startsWith('br') ? 100 : 0;
      const m = /\d+/.exec(name);
      if (m) {
        const no = start + Number.parseInt(m[0], 10);
        if (no > 0 && no <= MAX_PORT && !this.ports.has(no)) return no;
      }
    }
    for (let no = 1; no <= MAX_PORT; no++) if (!this.ports.has(no)) return no;
    throw new DpifError(`datapath ${this.name} has no free port number`);
  }

  /** Removes a port; flows that enter or leave by it go with it. */
  delPort(no: number): void {
    if (no === 0) throw new DpifError('port 0 is the datapath\'s own port and cannot be removed');
    if (!this.ports.delete(no)) throw new DpifError(`datapath ${this.name} has no port ${no}`);
    for (const f of [...this.dpcls.flows()]) {
      if (f.key[K.inPort] === no || f.actions.some((a) => a.type === 'output' && a.port === no)) this.removeFlow(f);
    }
    this.emc.flush();
  }

  setPortIo(no: number, io: DpPortIo | null): void {
    const p = this.ports.get(no);
    if (!p) throw new DpifError(`datapath ${this.name} has no port ${no}`);
    p.io = io;
  }

  portByName(name: string): DpPort | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return undefined;
  }

  /** Receives one batch from every port and processes it; returns the packets handled. */
  poll(now = this.clock()): number {
    let total = 0;
    for (const p of this.ports.values()) {
      if (!p.io) continue;
      const b = this.rxBatch;
      b.clear();
      const n = p.io.rx(b);
      if (n <= 0) continue;
      for (let i = 0; i < b.count; i++) b.port[i] = p.no;
      total += b.count;
      const t0 = performance.now();
      this.receivedFn?.(now);
      this.processBatch(b, now);
      p.stats.rxBusyNs += Math.round((performance.now() - t0) * 1e6);
    }
    return total;
  }

  // ---------------------------------------------------------------- fast path

  /** Classifies and forwards every frame of the batch (batch.port[i] is frame i's datapath in-port). */
  processBatch(batch: FrameBatch, now = this.clock()): void {
    // The per-batch scratch is shared: an upcall or userspace callback must use executePacket, not re-enter.
    if (this.env.batch !== null) throw new DpifError('processBatch re-entered from a callback (use executePacket)');
    const t0 = performance.now();
    if (this.tablesDirty) this.revalidateNow(now);
    const env = this.env;
    env.batch = batch;
    try {
      this.runBatch(batch, now, null);
      if (this.recircIn.count > 0) this.drainRecirc(now);
    } finally {
      // A throwing port or callback must not leave the scratch claimed or stale frames queued.
      for (const p of env.pending.values()) p.n = 0;
      for (let g = 0; g < this.groupFlow.length; g++) this.groupFlow[g] = null;
      this.stats.noRoom += env.noRoom;
      env.noRoom = 0;
      env.batch = null;
      this.stats.busyNs += Math.round((performance.now() - t0) * 1e6);
    }
  }

  private runBatch(batch: FrameBatch, now: number, tun: Uint32Array | null): void {
    const n = batch.count;
    const epoch = ++this.epoch;
    const key = this.key;
    const env = this.env;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      env.floor[i] = i === 0 ? 0 : batch.off[i - 1]! + batch.len[i - 1]!;
      const end = batch.off[i]! + batch.len[i]!;
      if (end > tail) tail = end;
    }
    env.tail.at = tail;
    let groups = 0;
    let lastPortNo = -1;
    let lastPort: DpPort | undefined;
    for (let i = 0; i < n; i++) {
      const inPort = batch.port[i]!;
      const len = batch.len[i]!;
      if (inPort !== lastPortNo) { lastPortNo = inPort; lastPort = this.ports.get(inPort); }
      // A recirculated frame was counted when it came in (its tunnel port counted it at tnl_pop).
      if (!tun) {
        if (lastPort) { lastPort.stats.rxPackets++; lastPort.stats.rxBytes += len; }
        this.stats.packets++;
      }
      extractFlow(batch.buf, len, inPort, key, batch.off[i]!);
      if (tun) {
        key[K.tunId] = tun[i * 4]!;
        key[K.tunId + 1] = tun[i * 4 + 1]!;
        key[K.tunSrc] = tun[i * 4 + 2]!;
        key[K.tunDst] = tun[i * 4 + 3]!;
      } else {
        key[K.tunId] = 0;
        key[K.tunId + 1] = 0;
        key[K.tunSrc] = 0;
        key[K.tunDst] = 0;
      }
      this.pktFlags[i] = key[K.tcpFlags]!;
      this.fromUpcall[i] = 0;
      let f: DpFlow | null = null;
      let h = 0;
      // Geneve options are not part of the datapath key: such a packet always goes up, and its flow is not cached.
      const optsLen = tun ? this.optsLenWork[i]! : 0;
      if (optsLen || this.keyHasOpts) {
        if (optsLen) putRawGeneveOptions(key, this.optsWork, i * GENEVE_MAX_OPTS, optsLen);
        else clearGeneveOptions(key);
        this.keyHasOpts = optsLen > 0;
      }
      // With one mask the classifier is a single hash probe, cheaper than the EMC's full-key compare: skip the EMC then.
      const useEmc = this.emcInsertInvProb > 0 && this.dpcls.masks > 1 && !optsLen;
      if (useEmc) {
        h = emcHash(key);
        f = this.emc.lookup(key, h);
      }
      if (f !== null) {
        this.stats.emcHits++;
      } else {
        f = optsLen ? null : this.dpcls.lookup(key);
        if (f !== null) {
          this.stats.megaflowHits++;
          this.stats.subtableLookups += this.dpcls.lastSubtables;
          if (useEmc && ++this.emcCounter >= this.emcInsertInvProb) {
            this.emcCounter = 0;
            this.emc.insert(key, h, f);
          }
        } else {
          f = this.miss(inPort, key, batch.frame(i), now);
          if (f === null) continue;
          this.fromUpcall[i] = 1;
        }
      }
      this.nextIdx[i] = -1;
      if (f.batchEpoch !== epoch) {
        f.batchEpoch = epoch;
        f.batchGroup = groups;
        this.groupFlow[groups] = f;
        this.groupHead[groups] = i;
        this.groupTail[groups] = i;
        groups++;
      } else {
        const g = f.batchGroup;
        this.nextIdx[this.groupTail[g]!] = i;
        this.groupTail[g] = i;
      }
    }
    const idx = this.idx;
    for (let g = 0; g < groups; g++) {
      const f = this.groupFlow[g]!;
      let m = 0;
      let credited = 0;
      let bytes = 0;
      let flags = 0;
      for (let i = this.groupHead[g]!; i >= 0; i = this.nextIdx[i]!) {
        idx[m++] = i;
        if (this.fromUpcall[i]) continue;   // the upcalled packet does not count on its flow, as in OVS
        credited++;
        bytes += batch.len[i]!;
        flags |= this.pktFlags[i]!;
      }
      if (credited) {
        f.packets += credited;
        f.bytes += bytes;
        f.used = now;
        f.tcpFlags |= flags;
      }
      execute(env, batch, f.prog, idx, m, now);
    }
    for (const [port, p] of env.pending) if (p.n) this.flushPort(port, batch);
  }

  /**
   * Runs actions on one frame outside the fast path (packet-out, OFPP_TABLE
   * resubmission by the owner): outputs go at once, nothing is cached.
   * Safe to call from an upcall or userspace callback.
   */
  executePacket(frame: Uint8Array, inPort: number, actions: readonly DpAction[], now = this.clock()): void {
    // Packet-outs and relayed frames come this way once per packet: the same action lists compile once.
    let prog = this.programs.get(actions);
    if (!prog) {
      prog = compileActions(actions);
      this.programs.set(actions, prog);
    }
    this.executeProgram(frame, inPort, prog, now);
    // Decapsulated frames go through the datapath now, unless a batch being processed will take them.
    if (this.recircIn.count > 0 && this.env.batch === null && !this.executing) this.processRecirc(now);
  }

  /** Decapsulated frames queued outside a batch: processed as one (with the batch's bookkeeping). */
  private processRecirc(now: number): void {
    // An empty batch whose processing drains the queue.
    this.emptyBatch.clear();
    this.processBatch(this.emptyBatch, now);
  }

  /** Runs a compiled program on a copy of one frame: outputs go at once (one batch serves calls not made from inside another). */
  private executeProgram(frame: Uint8Array, inPort: number, prog: Program, now: number): void {
    const nested = this.executing;
    const b = nested || frame.length + 2 * HEADROOM + 64 > this.execBatch.buf.length
      ? new FrameBatch(1, Math.max(FRAME_MAX + HEADROOM, frame.length + 2 * HEADROOM + 64))
      : this.execBatch;
    b.clear();
    if (!b.push(frame, inPort)) throw new DpifError(`frame of ${frame.length} bytes does not fit a batch`);
    this.executing = true;
    try {
      const env = nested ? this.newExecEnv() : this.execEnv;
      env.floor[0] = 0;
      env.tail.at = b.off[0]! + b.len[0]!;
      env.noRoom = 0;
      env.inPort = inPort;
      execute(env, b, prog, ZERO_INDEX, 1, now);
      this.stats.noRoom += env.noRoom;
    } finally {
      this.executing = nested;
    }
  }

  /** The environment executePacket runs actions in: outputs go at once, nothing waits for a batch. */
  private newExecEnv(): ExecEnv & { inPort: number } {
    const one = new Uint16Array(1);
    const env: ExecEnv & { inPort: number } = {
      floor: new Uint32Array(1), tail: { at: 0 }, noRoom: 0, inPort: 0,
      outputNow: (port, batch, idx, n) => this.transmit(port, batch, idx, n),
      outputLater: (port, batch, i) => { one[0] = i; this.transmit(port, batch, one, 1); },
      userspace: (a, batch, i) => { this.userspaceFn?.(a, batch.frame(i), env.inPort); },
      meter: (id, bytes, t) => (this.meterFn ? this.meterFn(id, bytes, t) : true),
      clone: (prog, batch, i, t) => this.executeProgram(batch.frame(i), env.inPort, prog, t),
      tnlPop: (port, batch, i) => this.tnlPop(port, batch, i),
    };
    return env;
  }

  private flushPort(port: number, batch: FrameBatch): void {
    const p = this.env.pending.get(port);
    if (!p || p.n === 0) return;
    this.transmit(port, batch, p.q, p.n);
    p.n = 0;
  }

  private transmit(portNo: number, batch: FrameBatch, idx: Uint16Array, n: number): void {
    const port = this.ports.get(portNo);
    if (!port) return;
    let bytes = 0;
    for (let k = 0; k < n; k++) bytes += batch.len[idx[k]!]!;
    if (!port.io) {
      port.stats.txDropped += n;
      return;
    }
    port.io.tx(batch, idx, n);
    port.stats.txPackets += n;
    port.stats.txBytes += bytes;
    this.stats.outputBatches++;
    this.stats.outputPackets += n;
  }

  /** An upcall; the flow to execute (installed, or transient when not installable), or null to drop. */
  private miss(inPort: number, key: Uint32Array, frame: Uint8Array, now: number): DpFlow | null {
    let res: UpcallResult | null;
    let prog: Program;
    let mask: Uint32Array;
    try {
      res = this.upcallFn(inPort, key, frame);
      if (res === null) throw new DpifError('upcall dropped the packet');
      mask = normalizeMask(key, res.mask);
      prog = compileActions(res.actions);
    } catch {
      this.stats.missFailed++;
      this.stats.lost++;
      return null;
    }
    this.stats.missSuccess++;
    const masked = new Uint32Array(key.length);
    for (let i = 0; i < key.length; i++) masked[i] = (key[i]! & mask[i]!) >>> 0;
    const flow: DpFlow = {
      key: masked, mask, dead: true, chain: null, hash: 0, subtable: null, fullKey: Uint32Array.from(key),
      actions: res.actions, prog, ref: res.ref, packets: 0, bytes: 0, used: 0, tcpFlags: 0, created: now,
      batchEpoch: 0, batchGroup: 0,
    };
    if (res.install === false || this.dpcls.count >= this.flowLimit) return flow;
    const old = this.dpcls.find(masked, mask);
    if (old) this.removeFlow(old);
    this.dpcls.insert(flow);
    return flow;
  }

  // ---------------------------------------------------------------- revalidation

  /** Deleted flows whose packets since the owner last looked have not been counted yet (takeRemoved). */
  private removed: DpFlow[] = [];

  private removeFlow(f: DpFlow): void {
    this.dpcls.remove(f);
    // Only flows that forwarded something matter to the owner's statistics; the list is bounded in case nobody asks.
    if (f.packets > 0 && this.removed.length < 65536) this.removed.push(f);
  }

  /** Flows deleted since the last call (idle, re-translated away, flushed), with their final counters. */
  takeRemoved(): DpFlow[] {
    const out = this.removed;
    this.removed = [];
    return out;
  }

  /** The OpenFlow tables changed: the EMC empties now, and every megaflow is re-translated before the next packet. */
  tablesChanged(): void {
    this.emc.flush();
    this.tablesDirty = true;
  }

  /** Re-translates now (if tables changed) and expires flows: afterwards the datapath forwards by the current tables. */
  revalidateNow(now = this.clock()): { deleted: number; modified: number } {
    return this.revalidate(now);
  }

  /**
   * One revalidator pass: flows idle longer than max-idle go; after a
   * tables change every flow is translated again (`translate`, default the
   * constructor's retranslate) and deleted when its mask changed or the
   * translation fails, updated in place when only its actions changed
   * (without a translator, all flows go); then the oldest go until
   * flow-limit holds.
   */
  revalidate(now = this.clock(), translate: RetranslateFn | undefined = this.retranslateFn): { deleted: number; modified: number } {
    const t0 = performance.now();
    const retranslate = this.tablesDirty;
    this.tablesDirty = false;
    let deleted = 0;
    let modified = 0;
    const live: DpFlow[] = [];
    for (const f of [...this.dpcls.flows()]) {
      if (now - (f.used || f.created) > this.maxIdleMs) { this.removeFlow(f); deleted++; continue; }
      if (retranslate) {
        const r = translate ? safe(() => translate(f)) : null;
        const mask = r ? safe(() => normalizeMask(f.fullKey, r.mask)) : null;
        if (!r || !mask || !sameWords(mask, f.mask)) { this.removeFlow(f); deleted++; continue; }
        if (!sameActions(r.actions, f.actions)) {
          const prog = safe(() => compileActions(r.actions));
          if (!prog || r.install === false) { this.removeFlow(f); deleted++; continue; }
          f.actions = r.actions;
          f.prog = prog;
          modified++;
        }
        f.ref = r.ref;
      }
      live.push(f);
    }
    if (retranslate) this.emc.flush();
    if (live.length > this.flowLimit) {
      live.sort((a, b) => (a.used || a.created) - (b.used || b.created));
      for (let i = 0; i < live.length - this.flowLimit; i++) { this.removeFlow(live[i]!); deleted++; }
    }
    this.revalidation.runs++;
    this.revalidation.deleted += deleted;
    this.revalidation.modified += modified;
    this.revalidation.lastMs = performance.now() - t0;
    return { deleted, modified };
  }

  /** Deletes every flow (dpctl/del-flows). */
  flushFlows(): void {
    for (const f of [...this.dpcls.flows()]) this.removeFlow(f);
    this.emc.flush();
  }

  /** Applies other_config values (flow-limit, max-idle, emc-insert-inv-prob). */
  configure(opts: { flowLimit?: number; maxIdleMs?: number; emcInsertInvProb?: number }): void {
    if (opts.flowLimit !== undefined) this.flowLimit = Math.max(0, Math.floor(opts.flowLimit));
    if (opts.maxIdleMs !== undefined) this.maxIdleMs = Math.max(0, opts.maxIdleMs);
    if (opts.emcInsertInvProb !== undefined) {
      this.emcInsertInvProb = Math.max(0, Math.floor(opts.emcInsertInvProb));
      if (this.emcInsertInvProb === 0) this.emc.flush();
    }
  }

  // ---------------------------------------------------------------- inspection

  flows(): DpFlow[] {
    return [...this.dpcls.flows()];
  }

  get flowCount(): number {
    return this.dpcls.count;
  }

  get masks(): number {
    return this.dpcls.masks;
  }

  get emcEntries(): number {
    return this.emc.size;
  }

  now(): number {
    return this.clock();
  }
}

function newPortStats(): DpPortStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txDropped: 0, rxBusyNs: 0 };
}

function safe<T>(fn: () => T): T | null {
  try { return fn(); } catch { return null; }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The mask a datapath flow really has: what the translation consulted, plus
 * what dpif-netdev always matches (in_port, the ethertype, whether there is
 * a VLAN tag, the IP fragment type), and nothing outside the datapath key.
 */
export function normalizeMask(key: Uint32Array, mask: Uint32Array): Uint32Array {
  if (mask.length !== key.length) throw new DpifError(`mask has ${mask.length} words, the flow key ${key.length}`);
  const m = new Uint32Array(key.length);
  m.set(mask.subarray(0, DP_KEY_WORDS));
  m[K.inPort] = 0xffffffff;
  m[K.ethType] = 0xffff;
  m[K.vlanTci] = (m[K.vlanTci]! | 0x1000) & 0xffff;
  const t = key[K.ethType]!;
  if (t === IP || t === IPV6) m[K.ipFrag] = 3;
  return m;
}

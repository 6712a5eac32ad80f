// The bridges' packet path over the userspace datapath (OVS's ofproto-dpif
// and its upcall handler): every bridge's ports are ports of one DpifNetdev;
// the datapath forwards from its megaflow and exact-match caches, and a miss
// comes here as an upcall that xlate answers with datapath actions and the
// wildcard mask of what it looked at. When anything a translation depends on
// changes (flow tables, groups, meters, ports, VLAN and mirror settings, the
// MAC table), the datapath re-translates its flows before the next packet, so
// a reply to a barrier means the new rules forward. Flow statistics are pushed
// back to the OpenFlow rules twice a second, as OVS's revalidators do.
// Packet-outs run through the plain translation (Pipeline).

import {
  DpifNetdev, FRAME_MAX, FrameBatch, HEADROOM, PmdPool, takeRawGeneveOptions, tunnelDpName, formatDpctlDumpFlows, formatDpctlShow, formatDpifDumpFlows, formatDpifShow, formatPmdStats, formatUpcallShow,
  type DatapathView, type DpAction as DpifAction, type DpPortIo, type DpPortStats, type DumpableFlow, type UpcallResult,
} from '../dpif/index.js';
import { fieldSlot } from '../flow/index.js';
import { vlogModule } from '../lib/vlog.js';
import { type XlateBridge, type XlateRule, type XlateTunnels, type TunnelKind } from './bridge.js';
import { newKey, port32 } from './key.js';
import { macTableOf } from './mac-learning.js';
import { geneveOptionsToKey } from './tunnel.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { toDatapath, type DpActionContext, type DpHandle } from './dp-actions.js';
import { translate, type XlateResult } from './xlate.js';

/** A device as the datapath sees it: per-frame send (dummy ports) or batch receive and send (kernel ports). */
export interface DatapathNetdev {
  readonly name: string;
  readonly type: string;
  send(frame: Uint8Array): boolean;
  receiveBatch?(batch: FrameBatch): number;
  sendBatch?(batch: FrameBatch, indices?: Uint32Array, count?: number): number;
  /** The native handle a PMD worker receives from (kernel-backed devices). */
  rxq?(): { handle: number };
}

export interface DatapathPipelineOptions extends PipelineOptions {
  /** OVS's dummy datapath (`dummy@ovs-dummy`, ports numbered from their names), for --enable-dummy=override. */
  dummy?: boolean;
  /** PMD worker threads receiving from kernel-backed ports (0: the main thread polls them). */
  pmdWorkers?: number;
  /** Event counters (coverage/show): pmd_restart counts workers started again after dying. */
  coverage?: { define(name: string): void; inc(name: string): void };
}

interface PortRef {
  readonly bridge: XlateBridge;
  readonly ofport: number;
  readonly dpPort: number;
  readonly netdev: DatapathNetdev;
}

/** What a userspace action's cookie (or a meter action's id) stands for: a packet-in, a meter, or a slow-path flow. */
interface Handle extends DpHandle {
  /** A PMD worker's flow whose actions need the main thread (meters): run here on each packet. */
  readonly slow?: readonly DpifAction[];
}

/** What a megaflow keeps for the revalidator: the rules it credits, and the tunnel ports whose counters it moves. */
interface FlowRef {
  readonly bridge: XlateBridge;
  readonly rules: readonly XlateRule[];
  readonly counters: ReadonlyArray<(bytes: number, packets: number) => void>;
  pushedPackets: number;
  pushedBytes: number;
}

/**
 * A tunnel datapath port, shared by every tunnel port of one kind and UDP
 * port (OVS's vxlan_sys_4789, genev_sys_6081, gre_sys): decapsulated packets
 * enter by it, and their tunnel metadata tells which OpenFlow port they are for.
 */
interface TunnelDpPort {
  readonly dpPort: number;
  readonly kind: TunnelKind;
  readonly udpPort: number;
  /** The OpenFlow tunnel ports using it (bridge/ofport), with their bridges (which know the switch's tunnel endpoints). */
  readonly users: Map<string, XlateBridge>;
}

const TUN_ID_WORD = fieldSlot('tun_id').word;
const TUN_SRC_WORD = fieldSlot('tun_src').word;
const TUN_DST_WORD = fieldSlot('tun_dst').word;

const log = vlogModule('dpif_netdev');
const IN_PORT_WORD = fieldSlot('in_port').word;
const STATS_PUSH_MS = 500;
/** How long the receive loop keeps polling without pause after the last packet. */
const BUSY_LINGER_MS = 20;

/** Records the datapath number on the bridge's port (the port object is added before the pipeline hears of it). */
function setOdpPort(bridge: XlateBridge, ofport: number, dpPort: number): void {
  const p = bridge.ports.get(ofport);
  if (p) p.odpPort = dpPort;
}


/** The tunnel options a tunnel netdev carries (its class is in netdev/, below this layer's view). */
function tunnelOptions(netdev: DatapathNetdev): { kind: TunnelKind; dstPort: number } {
  const t = netdev as unknown as { kind: TunnelKind; dstPort: number };
  return { kind: t.kind, dstPort: t.kind === 'gre' ? 0 : t.dstPort };
}

export class DatapathPipeline extends Pipeline {
  readonly dp: DpifNetdev;
  readonly dpType: string;
  private readonly dummy: boolean;
  private readonly byDp = new Map<number, PortRef>();
  private readonly byBridge = new Map<XlateBridge, Map<number, PortRef>>();
  private readonly versions = new Map<XlateBridge, { tables: number; mac: number }>();
  /** Userspace-action cookies and meter ids in the datapath, each naming a bridge's packet-in or meter. */
  private readonly handles = new Map<number, Handle>();
  /** Shared tunnel datapath ports by `kind:udpPort`, and by datapath number. */
  private readonly tunnelDps = new Map<string, TunnelDpPort>();
  private readonly tunnelByDp = new Map<number, TunnelDpPort>();
  private nextHandle = 1;
  private readonly one = new FrameBatch(1, FRAME_MAX + 4 * HEADROOM);
  private readonly scratchKey = newKey();
  private readonly txIdx = new Uint32Array(65536);
  private pollTimer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private polled = 0;
  private lastTraffic = -Infinity;
  private readonly pushTimer: NodeJS.Timeout;
  private readonly clock: () => number;
  private pool: PmdPool | null = null;
  private pmdWorkers: number;
  private readonly defaultPmdWorkers: number;
  private readonly coverage: DatapathPipelineOptions['coverage'];
  /** Native receive handles of the datapath's kernel-backed ports (what PMD workers poll). */
  private readonly rxHandles = new Map<number, number>();
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly relayActions = new Map<number, readonly DpifAction[]>();

  constructor(opts: DatapathPipelineOptions = {}) {
    super(opts);
    this.clock = opts.now ?? (() => performance.now());
    this.dpType = 'netdev';
    this.dummy = opts.dummy ?? false;
    this.pmdWorkers = opts.pmdWorkers ?? 0;
    this.defaultPmdWorkers = this.pmdWorkers;
    this.coverage = opts.coverage;
    this.coverage?.define('pmd_restart');
    this.dp = new DpifNetdev({
      name: 'ovs-netdev',
      dummyNumbering: opts.dummy ?? false,
      localPortType: opts.dummy ? 'dummy-internal' : 'tap',
      clock: this.clock,
      upcall: (inPort, key, frame) => this.upcall(inPort, key, frame),
      retranslate: (flow) => this.retranslate(flow.fullKey, flow.ref as FlowRef | undefined),
      userspace: (a, frame, inPort) => this.userspace(a.cookie, frame, inPort),
      meter: (id, bytes, now) => this.meter(id, bytes, now),
    });
    // The revalidator's round: push statistics to the rules first, then expire idle flows (max-idle) and enforce flow-limit.
    this.pushTimer = setInterval(() => {
      this.pushStats();
      this.sync();
      this.dp.revalidate(this.clock());
    }, STATS_PUSH_MS);
    this.pushTimer.unref();
  }

  // ------------------------------------------------------------ ports

  /** A port joined a bridge: it becomes a datapath port. Returns true when the datapath polls it itself (no per-frame handler wanted). */
  portAdded(bridge: XlateBridge, ofport: number, netdev: DatapathNetdev): boolean {
    // A patch port has no datapath port: translation crosses the cable.
    if (netdev.type === 'patch') return true;
    // A tunnel port shares its kind's datapath port, which only receives (decapsulated packets); sending is tnl_push.
    if (netdev.type === 'vxlan' || netdev.type === 'geneve' || netdev.type === 'gre') {
      const { kind, dstPort } = tunnelOptions(netdev);
      const name = `${kind}:${dstPort}`;
      let t = this.tunnelDps.get(name);
      if (!t) {
        const dpPort = this.dp.addPort(tunnelDpName(kind, dstPort), kind, { rx: () => 0, tx: () => undefined });
        this.dp.setTunnelPort(dpPort, kind);
        t = { dpPort, kind, udpPort: dstPort, users: new Map() };
        this.tunnelDps.set(name, t);
        this.tunnelByDp.set(dpPort, t);
      }
      t.users.set(`${bridge.name}/${ofport}`, bridge);
      const dpPort = t.dpPort;
      const ref: PortRef = { bridge, ofport, dpPort, netdev };
      setOdpPort(bridge, ofport, dpPort);
      let m = this.byBridge.get(bridge);
      if (!m) this.byBridge.set(bridge, (m = new Map()));
      m.set(ofport, ref);
      this.watch(bridge);
      this.portsChanged();
      return true;
    }
    const batch = typeof netdev.receiveBatch === 'function' && typeof netdev.sendBatch === 'function';
    // With PMD workers a kernel-backed port is received from by its worker; this thread only sends on it.
    const handle = batch && this.pmdWorkers > 0 && typeof netdev.rxq === 'function' ? netdev.rxq().handle : null;
    const io: DpPortIo = batch
      ? {
        rx: handle === null ? (b) => netdev.receiveBatch!(b) : () => 0,
        tx: (b, idx, n) => {
          for (let k = 0; k < n; k++) this.txIdx[k] = idx[k]!;
          netdev.sendBatch!(b, this.txIdx, n);
        },
      }
      : {
        rx: () => 0,
        tx: (b, idx, n) => {
          for (let k = 0; k < n; k++) netdev.send(b.frame(idx[k]!).slice());
        },
      };
    const existing = this.dp.portByName(netdev.name);
    if (existing) this.dp.delPort(existing.no);
    // Under --enable-dummy=override a local port is a dummy device, which OVS's dpctl calls dummy-internal.
    const type = this.dummy && netdev.type === 'internal' ? 'dummy-internal' : netdev.type;
    const dpPort = this.dp.addPort(netdev.name, type, io);
    const ref: PortRef = { bridge, ofport, dpPort, netdev };
    this.byDp.set(dpPort, ref);
    setOdpPort(bridge, ofport, dpPort);
    let m = this.byBridge.get(bridge);
    if (!m) this.byBridge.set(bridge, (m = new Map()));
    m.set(ofport, ref);
    this.watch(bridge);
    if (handle !== null) {
      this.rxHandles.set(dpPort, handle);
    } else if (batch) {
      this.polled++;
      this.schedulePoll(false);
    }
    this.portsChanged();
    return batch;
  }

  /** The bridge tells this datapath at once when its tables move (workers must know before a barrier reply). */
  private watch(bridge: XlateBridge): void {
    if ('onTablesChanged' in bridge) bridge.onTablesChanged = () => this.sync();
  }

  /** Something translations depend on changed: the main thread's flows and every worker's are translated again. */
  private changed(): void {
    this.dp.tablesChanged();
    this.pool?.tablesChanged();
  }

  /** The datapath's ports changed: the workers get the new list (the first kernel-backed port starts them). */
  private portsChanged(): void {
    this.changed();
    if (this.rxHandles.size > 0 && !this.pool) this.startPool();
    this.pool?.setPorts([...this.dp.ports.values()].map((p) => ({
      no: p.no, name: p.name, type: p.type, handle: this.rxHandles.get(p.no) ?? null, tunnel: this.tunnelByDp.get(p.no)?.kind ?? null,
    })));
  }

  private startPool(): void {
    this.pool = new PmdPool({
      workers: this.pmdWorkers,
      clock: this.clock,
      upcall: (inPort, key, frame) => this.forWorker(this.upcall(inPort, key, frame)),
      retranslate: (fullKey, ref) => this.forWorker(this.retranslate(fullKey, ref as FlowRef | undefined)),
      userspace: (cookie, frame, inPort) => this.userspace(cookie, frame, inPort),
      output: (port, frame) => this.relay(port, frame),
      settled: () => this.sync(),
      warn: (message) => log.warn(message),
      restarted: () => this.coverage?.inc('pmd_restart'),
    });
    this.pool.configure({ flowLimit: this.dp.flowLimit, maxIdleMs: this.dp.maxIdleMs, emcInsertInvProb: this.dp.emcInsertInvProb });
    // MAC learning and aging move translations too, without a tables change: look for such moves often.
    this.syncTimer = setInterval(() => this.sync(), 20);
    this.syncTimer.unref();
  }

  /**
   * A translation as a worker gets it: a flow that meters becomes a slow-path flow whose packets come to this
   * thread (meters are this thread's state).
   */
  private forWorker(r: UpcallResult | null): UpcallResult | null {
    if (!r || !r.actions.some((a) => a.type === 'meter')) return r;
    const bridge = (r.ref as FlowRef).bridge;
    const cookie = this.handle({ bridge, slow: r.actions });
    return { ...r, actions: [{ type: 'userspace', pid: 0, cookie, userdata: 'slow_path(meter)' }] };
  }

  /** A worker's frame for a port it cannot send on. */
  private relay(port: number, frame: Uint8Array): void {
    let actions = this.relayActions.get(port);
    if (!actions) this.relayActions.set(port, (actions = [{ type: 'output', port }]));
    this.dp.executePacket(frame, port, actions, this.clock());
  }

  /** The bridge and OpenFlow port behind a datapath port (a shared tunnel port has none: its packets pick one by tunnel). */
  portOfDp(dpPort: number): { bridge: XlateBridge; ofport: number } | undefined {
    const ref = this.byDp.get(dpPort);
    return ref ? { bridge: ref.bridge, ofport: ref.ofport } : undefined;
  }

  /** How many PMD workers receive from kernel-backed ports (other_config:pmd-cpu-mask); a change restarts them. */
  setPmdWorkers(n: number): void {
    const want = Math.max(0, Math.floor(n));
    if (want === this.pmdWorkers) return;
    this.pmdWorkers = want;
    this.stopPool();
    // Kernel-backed ports move between the main thread's loop and the workers.
    for (const [dpPort, ref] of this.byDp) {
      const nd = ref.netdev;
      const port = this.dp.ports.get(dpPort);
      if (!port?.io || typeof nd.receiveBatch !== 'function' || typeof nd.sendBatch !== 'function') continue;
      const toWorker = want > 0 && typeof nd.rxq === 'function';
      if (toWorker && !this.rxHandles.has(dpPort)) {
        this.rxHandles.set(dpPort, nd.rxq!().handle);
        port.io = { ...port.io, rx: () => 0 };
        this.polled--;
      } else if (!toWorker && this.rxHandles.delete(dpPort)) {
        port.io = { ...port.io, rx: (b) => nd.receiveBatch!(b) };
        this.polled++;
        this.schedulePoll(false);
      }
    }
    this.portsChanged();
  }

  private stopPool(): void {
    const old = this.pool;
    this.pool = null;
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = null;
    if (old) {
      // What the workers forwarded since their last report is credited before they go.
      this.pushStats();
      void old.close();
    }
  }

  /** Workers that died and were started again. */
  get pmdRestarts(): number {
    return this.pool?.restarts ?? 0;
  }

  /** The worker pool, when kernel-backed ports started one. */
  get pmdPool(): PmdPool | null {
    return this.pool;
  }

  override portRemoved(bridge: XlateBridge, ofport: number): void {
    super.portRemoved(bridge, ofport);
    const ref = this.byBridge.get(bridge)?.get(ofport);
    if (!ref) return;
    this.byBridge.get(bridge)!.delete(ofport);
    if (this.byBridge.get(bridge)!.size === 0) {
      this.byBridge.delete(bridge);
      this.versions.delete(bridge);
    }
    const t = this.tunnelByDp.get(ref.dpPort);
    if (t) {
      // The shared tunnel port goes with its last user.
      t.users.delete(`${bridge.name}/${ofport}`);
      if (t.users.size === 0) {
        this.tunnelDps.delete(`${t.kind}:${t.udpPort}`);
        this.tunnelByDp.delete(t.dpPort);
        this.dp.setTunnelPort(t.dpPort, null);
        this.dp.delPort(t.dpPort);
      }
      this.portsChanged();
      return;
    }
    this.byDp.delete(ref.dpPort);
    this.dp.delPort(ref.dpPort);
    if (this.rxHandles.delete(ref.dpPort)) {
      // the worker polled it
    } else if (typeof ref.netdev.receiveBatch === 'function') {
      this.polled--;
    }
    this.portsChanged();
  }

  // ------------------------------------------------------------ packets

  /** A frame pushed by a device the datapath does not poll (dummy ports, netdev-dummy/receive). */
  override receive(bridge: XlateBridge, inPort: number, frame: Uint8Array): void {
    const ref = this.byBridge.get(bridge)?.get(inPort);
    if (!ref) {
      super.receive(bridge, inPort, frame);
      return;
    }
    const b = this.one;
    b.clear();
    if (!b.push(frame, ref.dpPort)) return;
    this.sync();
    this.dp.processBatch(b, this.clock());
  }

  private schedulePoll(busy: boolean): void {
    if (this.pollTimer || this.polled <= 0) return;
    const run = (): void => {
      this.pollTimer = null;
      this.sync();
      let n = 0;
      try {
        n = this.dp.poll(this.clock());
      } catch {
        // A failing device must not stop the loop; its counters show the loss.
      }
      const now = performance.now();
      if (n > 0) this.lastTraffic = now;
      this.schedulePoll(now - this.lastTraffic < BUSY_LINGER_MS);
    };
    // Busy (traffic in the last few ms, when a reply is likely on its way): come back at once, after I/O;
    // idle: a millisecond later, so an idle switch costs little.
    this.pollTimer = busy ? setImmediate(run) : setTimeout(run, 1);
  }

  /** Tells the datapath when anything translations depend on has changed since the last packet. */
  private sync(): void {
    let tables = false;
    let learning = false;
    for (const bridge of this.byBridge.keys()) {
      const v = { tables: bridge.tablesVersion ?? 0, mac: macTableOf(bridge).version };
      const old = this.versions.get(bridge);
      if (old && old.tables === v.tables && old.mac === v.mac) continue;
      this.versions.set(bridge, v);
      if (!old || old.tables !== v.tables) tables = true;
      else learning = true;
    }
    if (tables) {
      this.changed();
    } else if (learning) {
      // What NORMAL learned only changes which flows are best, not what a barrier promised: workers catch up in the background.
      this.dp.tablesChanged();
      this.pool?.learningChanged();
    }
  }

  /**
   * Where a packet entering by the datapath port in its key goes in: the
   * port's bridge and OpenFlow number, or for a shared tunnel port the
   * tunnel port its tunnel metadata (outer source and destination, key)
   * names, with that port's receive counter.
   */
  private inputOf(key: Uint32Array): { bridge: XlateBridge; ofport: number; tunnel: boolean; count?: (bytes: number, packets: number) => void } | null {
    const inPort = key[IN_PORT_WORD]!;
    const t = this.tunnelByDp.get(inPort);
    if (!t) {
      const ref = this.byDp.get(inPort);
      return ref ? { bridge: ref.bridge, ofport: ref.ofport, tunnel: false } : null;
    }
    let map: XlateTunnels | undefined;
    for (const b of t.users.values()) if ((map = b.tunnels)) break;
    const to = map?.portFor(t.kind, key[TUN_SRC_WORD]!, key[TUN_DST_WORD]!, key[TUN_ID_WORD + 1]!, t.udpPort);
    if (!to) return null;
    return { bridge: to.bridge, ofport: to.ofport, tunnel: true, ...(to.count ? { count: to.count } : {}) };
  }

  private upcall(inPort: number, key: Uint32Array, frame: Uint8Array): UpcallResult | null {
    void inPort;
    const input = this.inputOf(key);
    if (!input) return null;
    const now = this.clock();
    this.stats.packets++;
    const flow = this.scratchKey;
    flow.set(key);
    flow[IN_PORT_WORD] = port32(input.ofport);
    // Geneve options come up as received: they become tun_metadata by the tunnel port's bridge's mapping; an
    // unknown critical option makes the packet invalid (dropped). Such flows are not cached (the datapath key lacks options).
    const opts = takeRawGeneveOptions(flow);
    if (opts && !geneveOptionsToKey(opts, flow, input.tunnel ? input.bridge.tlvTable : undefined)) {
      this.stats.failed++;
      return null;
    }
    let res: XlateResult;
    try {
      res = translate({
        bridge: input.bridge, mac: macTableOf(input.bridge), flow, inPort: input.ofport, trace: false, sideEffects: true,
        credit: { bytes: frame.length, now }, packet: frame,
      });
    } catch {
      this.stats.failed++;
      return null;
    }
    const r = this.result(input, res, true);
    // The upcalled packet is not counted on its megaflow: its tunnel ports count it now.
    for (const c of (r?.ref as FlowRef | undefined)?.counters ?? []) c(frame.length, 1);
    return r && opts ? { ...r, install: false } : r;
  }

  private retranslate(fullKey: Uint32Array, old: FlowRef | undefined): UpcallResult | null {
    const input = this.inputOf(fullKey);
    if (!input) return null;
    const flow = Uint32Array.from(fullKey);
    flow[IN_PORT_WORD] = port32(input.ofport);
    let res: XlateResult;
    try {
      res = translate({ bridge: input.bridge, mac: macTableOf(input.bridge), flow, inPort: input.ofport, trace: false, sideEffects: false, credit: null, packet: null });
    } catch {
      return null;
    }
    const r = this.result(input, res, false);
    // Statistics already pushed stay pushed: the flow keeps its counters across a re-translation.
    if (r && old && r.ref) Object.assign(r.ref as FlowRef, { pushedPackets: old.pushedPackets, pushedBytes: old.pushedBytes });
    return r;
  }

  /** A translation as the datapath wants it: its actions, mask and the rules to credit; null when it failed. */
  private result(input: { bridge: XlateBridge; tunnel: boolean; count?: (bytes: number, packets: number) => void }, res: XlateResult,
    upcall: boolean): UpcallResult | null {
    const bridge = input.bridge;
    if (res.error) {
      if (upcall) {
        this.stats.failed++;
        if (res.error === 'Conntrack is not supported') this.stats.ctDropped++;
      }
      return null;
    }
    if (upcall && res.dp.length === 0) this.stats.dropped++;
    const counters: Array<(bytes: number, packets: number) => void> = input.count ? [input.count] : [];
    // Packets of the flow keep alive the MACs its translation learned (else they would age out under traffic).
    for (const l of res.learned) counters.push(() => { l.table.learn(l.mac, l.vlan, l.port); });
    const actions = toDatapath(this.dpActionContext, bridge, res.dp, res.wc, counters);
    // Learn actions change the tables per packet: such flows stay in the slow path (OVS re-runs them from its xlate cache).
    const learns = res.rules.some((r) => r.actions.some((a) => a.type === 'learn'));
    const ref: FlowRef = { bridge, rules: res.rules, counters, pushedPackets: 0, pushedBytes: 0 };
    const mask = res.wc;
    // A decapsulated packet's tunnel metadata chose its OpenFlow port: the megaflow matches all of it.
    if (input.tunnel) for (const w of [TUN_ID_WORD, TUN_ID_WORD + 1, TUN_SRC_WORD, TUN_DST_WORD]) mask[w] = 0xffffffff;
    return { actions, mask, install: !learns && !res.noCache, ref };
  }

  /** What turning xlate's actions into datapath actions looks up here. */
  private readonly dpActionContext: DpActionContext = {
    dpPort: (bridge, ofport) => this.byBridge.get(bridge)?.get(ofport)?.dpPort,
    tunnelPort: (kind, udpPort) => this.tunnelDps.get(`${kind}:${udpPort}`)?.dpPort,
    handle: (h) => this.handle(h),
  };

  private handle(h: Handle): number {
    const n = this.nextHandle++;
    this.handles.set(n, h);
    return n;
  }

  private userspace(cookie: number, frame: Uint8Array, inPort: number): void {
    const h = this.handles.get(cookie);
    if (!h) return;
    if (h.slow) {
      this.dp.executePacket(frame, inPort, h.slow, this.clock());
    } else if (h.pin) {
      h.bridge.connmgr.sendPacketIn({ ...h.pin, frame: frame.slice() });
      this.stats.packetIns++;
    }
  }

  private meter(id: number, bytes: number, now: number): boolean {
    const h = this.handles.get(id);
    if (h?.meter === undefined) return true;
    const v = h.bridge.meters.apply(h.meter, bytes, now);
    if (v?.drop) {
      this.stats.meterDropped++;
      return false;
    }
    return true;
  }

  /** Credits the OpenFlow rules with what their megaflows forwarded since the last push; forgets handles no flow uses. */
  pushStats(): void {
    const live = new Set<number>();
    const flows: Array<{ ref: unknown; actions: readonly DpifAction[]; packets: number; bytes: number; used: number }> = this.dp.flows();
    // Flows deleted since the last push still owe their last packets to the rules.
    flows.push(...this.dp.takeRemoved());
    if (this.pool) flows.push(...this.pool.takeFlowRecords());
    for (const f of flows) {
      const ref = f.ref as FlowRef | undefined;
      this.markLive(f.actions, live);
      if (!ref) continue;
      const dp = f.packets - ref.pushedPackets;
      const db = f.bytes - ref.pushedBytes;
      if (dp <= 0) continue;
      ref.pushedPackets = f.packets;
      ref.pushedBytes = f.bytes;
      for (const c of ref.counters) c(db, dp);
      for (const r of ref.rules) {
        r.packets += dp;
        r.bytes += db;
        if (f.used > r.used) r.used = f.used;
      }
    }
    // Handles of flows that are gone (a translation's packet-in or meter) would otherwise accumulate.
    if (this.handles.size > 4 * (live.size + 64)) {
      for (const k of this.handles.keys()) if (!live.has(k)) this.handles.delete(k);
    }
  }

  /** Adds the handles `actions` use to `live`, and those of the actions those handles run (slow paths, clones). */
  private markLive(actions: readonly DpifAction[], live: Set<number>): void {
    for (const a of actions) {
      const id = a.type === 'userspace' ? a.cookie : a.type === 'meter' ? a.id : null;
      if (id === null || live.has(id)) continue;
      live.add(id);
      const h = this.handles.get(id);
      if (h?.slow) this.markLive(h.slow, live);
    }
    for (const a of actions) if (a.type === 'clone') this.markLive(a.actions, live);
  }

  /** Deletes every datapath flow (after crediting the rules with what they forwarded). */
  purge(): void {
    this.pushStats();
    this.dp.flushFlows();
    this.pool?.flush();
  }

  /** Applies other_config:flow-limit and max-idle; idle flows are swept twice per max-idle period. */
  configure(opts: { flowLimit: number; maxIdleMs: number; pmdWorkers?: number | null }): void {
    this.dp.configure({ flowLimit: opts.flowLimit, maxIdleMs: Math.max(100, opts.maxIdleMs) });
    this.pool?.configure({ flowLimit: this.dp.flowLimit, maxIdleMs: this.dp.maxIdleMs, emcInsertInvProb: this.dp.emcInsertInvProb });
    if (opts.pmdWorkers !== undefined) this.setPmdWorkers(opts.pmdWorkers ?? this.defaultPmdWorkers);
  }

  // ------------------------------------------------------------ unixctl texts

  private names(): Map<number, string> {
    return new Map([...this.dp.ports.values()].map((p) => [p.no, p.name]));
  }

  /** Every thread's flows: each PMD worker's (asked for now), then the main thread's. */
  private async threadFlows(): Promise<Array<{ coreId: number | null; flows: DumpableFlow[] }>> {
    this.pushStats();
    const pmds = this.pool ? await this.pool.dump() : [];
    return [...pmds.sort((a, b) => a.coreId - b.coreId), { coreId: null, flows: this.dp.flows() }];
  }

  async dumpFlows(verbose: boolean, bridge?: XlateBridge): Promise<string> {
    const threads = await this.threadFlows();
    const opts = { verbose, names: this.names(), now: this.clock(), tunnels: new Map([...this.tunnelByDp].map(([no, t]) => [no, t.kind])) };
    if (!bridge) return formatDpctlDumpFlows(threads, opts);
    const mine = threads.flatMap((t) => t.flows).filter((f) => this.byDp.get(f.fullKey[IN_PORT_WORD]!)?.bridge === bridge);
    return formatDpifDumpFlows(mine, opts);
  }

  /** The datapath as the unixctl texts show it: the main thread's counters plus what every worker reported last. */
  private view(): DatapathView {
    const threads = this.pool?.threadStats() ?? [];
    if (threads.length === 0) return this.dp;
    const stats = { ...this.dp.stats };
    const revalidation = { ...this.dp.revalidation };
    let flowCount = this.dp.flowCount;
    for (const t of threads) {
      for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += t.pmd[k];
      flowCount += t.flows;
      revalidation.runs += t.revalidation.runs;
      revalidation.deleted += t.revalidation.deleted;
      revalidation.modified += t.revalidation.modified;
      revalidation.lastMs = Math.max(revalidation.lastMs, t.revalidation.lastMs);
    }
    const ports = new Map([...this.dp.ports].map(([no, p]) => {
      const sum: DpPortStats = { ...p.stats };
      for (const t of threads) {
        const w = t.ports.get(no);
        if (!w) continue;
        sum.rxPackets += w.rxPackets;
        sum.rxBytes += w.rxBytes;
        sum.txPackets += w.txPackets;
        sum.txBytes += w.txBytes;
        sum.txDropped += w.txDropped;
        sum.rxBusyNs += w.rxBusyNs;
      }
      return [no, { ...p, stats: sum }];
    }));
    return { name: this.dp.name, stats, flowCount, ports, flowLimit: this.dp.flowLimit, revalidation };
  }

  show(withStats: boolean): string {
    return formatDpctlShow(this.view(), withStats, this.dpType);
  }

  dpifShow(bridges: ReadonlyArray<{ name: string; bridge: XlateBridge }>): string {
    return formatDpifShow([{
      dp: this.view(), type: this.dpType,
      bridges: bridges.map(({ name, bridge }) => ({
        name,
        ports: [...(this.byBridge.get(bridge)?.values() ?? [])]
          .map((r) => ({ name: r.netdev.name, ofport: r.ofport, dpPort: r.dpPort, type: this.dp.ports.get(r.dpPort)?.type ?? r.netdev.type })),
      })),
    }]);
  }

  /** Each PMD worker's counters under its heading (core order), then the main thread's, as OVS sorts them. */
  pmdStats(): string {
    const pmds = (this.pool?.threadStats() ?? []).sort((a, b) => a.coreId - b.coreId);
    return pmds.map((t) => formatPmdStats({ stats: t.pmd }, `pmd thread numa_id 0 core_id ${t.coreId}`, t.idleNs)).join('')
      + formatPmdStats(this.dp);
  }

  /** `dpif-netdev/pmd-rxq-show`: which worker receives from which port, and how busy that keeps it. */
  pmdRxqShow(): string {
    return this.pool?.rxqShow() ?? 'Displaying last 60 seconds pmd usage %\n';
  }

  upcallShow(): string {
    return formatUpcallShow(this.view(), this.dpType);
  }

  close(): void {
    this.stopPool();
    clearInterval(this.pushTimer);
    if (this.pollTimer) {
      clearTimeout(this.pollTimer as NodeJS.Timeout);
      clearImmediate(this.pollTimer as NodeJS.Immediate);
    }
    this.pollTimer = null;
  }
}

// The bridge's packet path with a megaflow cache (OVS's dpif-netdev fast path
// and upcall, in one thread for now): a received frame's flow key is looked
// up in the cache; a hit runs the cached datapath actions at once, a miss is
// translated through the OpenFlow tables (the upcall) and its actions are
// installed under the translation's wildcard mask. Any change to what a
// translation depends on (flow tables, groups, meters, ports, VLAN and mirror
// settings, the MAC table) empties the cache before the next packet, so a
// reply to a barrier always means the new rules forward: this runs in the
// thread that applies the flow_mods.

import { formatMatch, matchToSlots } from '../openflow/index.js';
import { keyMaskToMatch } from '../flow/index.js';
import { MegaflowCache, type Megaflow } from '../dpif/megaflow-cache.js';
import { PORT_CONFIG, type XlateBridge, type XlateRule } from './bridge.js';
import { executeActions } from './execute.js';
import { extractFlow, newKey, port32 } from './key.js';
import { macTableOf } from './mac-learning.js';
import type { DpAction } from './odp.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { translate } from './xlate.js';

/** What the cache keeps per megaflow: the datapath actions, and the rules to credit with each packet. */
export interface CachedTranslation {
  readonly dp: readonly DpAction[];
  /** The actions in ODP syntax, for dumps. */
  readonly odp: readonly string[];
  readonly rules: readonly XlateRule[];
}

export interface DatapathStats {
  /** Packets that hit a megaflow. */
  hits: number;
  /** Packets that missed and were translated (upcalls). */
  upcalls: number;
  /** Upcalls whose translation was not cached (learn actions, errors, a full cache). */
  uncached: number;
  /** Times the cache was emptied because something it depended on changed. */
  flushes: number;
}

interface BridgeCache {
  readonly cache: MegaflowCache<CachedTranslation>;
  tablesVersion: number;
  macVersion: number;
}

export interface DatapathPipelineOptions extends PipelineOptions {
  /** Most megaflows per bridge (other_config:flow-limit); 0 disables caching, as OVS's flow-limit=0. */
  flowLimit?: number;
}

export class DatapathPipeline extends Pipeline {
  readonly dpStats: DatapathStats = { hits: 0, upcalls: 0, uncached: 0, flushes: 0 };
  private readonly caches = new WeakMap<XlateBridge, BridgeCache>();
  /** One key reused for every received frame (no allocation per packet on a hit). */
  private readonly key = newKey();
  private readonly clock: () => number;
  flowLimit: number;
  private maxIdleMs = 10_000;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Bridges with a cache (weakly: a bridge that goes away takes its cache with it). */
  private readonly bridgesSeen = new Set<XlateBridge>();

  constructor(opts: DatapathPipelineOptions = {}) {
    super(opts);
    this.clock = opts.now ?? (() => performance.now());
    this.flowLimit = opts.flowLimit ?? 200_000;
  }

  /** The megaflow cache of a bridge, valid for its current tables and MAC table. */
  cacheOf(bridge: XlateBridge): MegaflowCache<CachedTranslation> {
    let c = this.caches.get(bridge);
    const tv = bridge.tablesVersion ?? 0;
    const mv = macTableOf(bridge).version;
    if (!c) {
      c = { cache: new MegaflowCache(this.flowLimit), tablesVersion: tv, macVersion: mv };
      this.caches.set(bridge, c);
      this.bridgesSeen.add(bridge);
    } else if (c.tablesVersion !== tv || c.macVersion !== mv) {
      if (c.cache.count) this.dpStats.flushes++;
      c.cache.clear();
      c.tablesVersion = tv;
      c.macVersion = mv;
    }
    return c.cache;
  }

  override portRemoved(bridge: XlateBridge, ofport: number): void {
    super.portRemoved(bridge, ofport);
    this.caches.delete(bridge);
  }

  /** Megaflows of a bridge as `ovs-appctl dpctl/dump-flows` lists them (OpenFlow match syntax for the key). */
  dumpFlows(bridge: XlateBridge, now = this.clock()): string {
    const c = this.caches.get(bridge);
    if (!c) return '';
    let out = '';
    for (const f of c.cache.flows()) {
      const used = f.packets ? `${((now - f.used) / 1000).toFixed(3)}s` : 'never';
      const match = formatMatch(matchToSlots(keyMaskToMatch(f.key, f.mask)));
      out += `recirc_id=0,eth${match ? `,${match}` : ''}, packets:${f.packets}, bytes:${f.bytes}, used:${used}, actions:${f.value.odp.length ? f.value.odp.join(',') : 'drop'}\n`;
    }
    return out;
  }

  override receive(bridge: XlateBridge, inPort: number, frame: Uint8Array): void {
    const p = bridge.ports.get(inPort);
    if (p && p.config & PORT_CONFIG.PORT_DOWN) return;
    const key = this.key;
    key.fill(0);
    extractFlow(frame, frame.length, port32(inPort), key);
    const cache = this.cacheOf(bridge);
    const now = this.clock();
    const hit = this.flowLimit > 0 ? cache.lookup(key) : undefined;
    if (hit) {
      this.dpStats.hits++;
      this.runCached(bridge, hit, frame, now);
      return;
    }
    this.upcall(bridge, inPort, frame, key, cache, now);
  }

  private runCached(bridge: XlateBridge, f: Megaflow<CachedTranslation>, frame: Uint8Array, now: number): void {
    f.packets++;
    f.bytes += frame.length;
    f.used = now;
    const rules = f.value.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      r.packets++;
      r.bytes += frame.length;
      r.used = now;
    }
    this.stats.packets++;
    if (f.value.dp.length === 0) {
      this.stats.dropped++;
      return;
    }
    const ex = executeActions(bridge, f.value.dp, frame, now);
    if (ex.meterDropped) this.stats.meterDropped++;
    this.stats.packetIns += ex.packetIns;
  }

  /** A miss: translate with side effects (learning, counters), execute, and cache what may be cached. */
  private upcall(bridge: XlateBridge, inPort: number, frame: Uint8Array, key: Uint32Array, cache: MegaflowCache<CachedTranslation>, now: number): void {
    this.dpStats.upcalls++;
    this.stats.packets++;
    let res;
    try {
      res = translate({
        bridge, mac: macTableOf(bridge), flow: key, inPort, trace: false, sideEffects: true,
        credit: { bytes: frame.length, now }, packet: frame,
      });
    } catch {
      this.stats.failed++;
      this.dpStats.uncached++;
      return;
    }
    if (res.error) {
      this.stats.failed++;
      if (res.error === 'Conntrack is not supported') this.stats.ctDropped++;
      this.dpStats.uncached++;
      return;
    }
    if (res.dp.length === 0) this.stats.dropped++;
    else {
      const ex = executeActions(bridge, res.dp, frame, now);
      if (ex.meterDropped) this.stats.meterDropped++;
      this.stats.packetIns += ex.packetIns;
    }
    // Learn actions change the tables per packet; such translations stay uncached (OVS re-runs them from its xlate cache).
    const learns = res.rules.some((r) => r.actions.some((a) => a.type === 'learn'));
    // The translation may itself have changed the MAC table or the tables: then the cache starts afresh first.
    const fresh = this.cacheOf(bridge);
    const flow = learns || this.flowLimit === 0 || fresh !== cache ? null : fresh.insert(key, res.wc, { dp: res.dp, odp: res.odp, rules: res.rules }, now);
    if (!flow) {
      this.dpStats.uncached++;
      return;
    }
    // The packet that made the flow counts on it, as in OVS's datapath.
    flow.packets = 1;
    flow.bytes = frame.length;
  }

  /** Applies other_config:flow-limit and max-idle; the idle sweep runs twice per max-idle period. */
  configure(opts: { flowLimit: number; maxIdleMs: number }): void {
    if (opts.flowLimit !== this.flowLimit) {
      this.flowLimit = opts.flowLimit;
      this.bridgesSeen.forEach((b) => this.caches.delete(b));
    }
    this.maxIdleMs = Math.max(100, opts.maxIdleMs);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = setInterval(() => {
      for (const b of this.bridgesSeen) this.expire(b, this.maxIdleMs);
    }, this.maxIdleMs / 2);
    this.sweepTimer.unref();
  }

  /** Forgets cached flows idle for `maxIdleMs` (other_config:max-idle); returns how many went. */
  expire(bridge: XlateBridge, maxIdleMs: number, now = this.clock()): number {
    return this.caches.get(bridge)?.cache.sweep((f) => now - f.used > maxIdleMs) ?? 0;
  }
}

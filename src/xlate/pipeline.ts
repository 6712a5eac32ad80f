// The bridge's packet path for this first version: every packet received on
// a port (or sent by a controller in a PACKET_OUT) is translated through the
// OpenFlow tables and the result carried out at once. Ofproto calls it as its
// PacketPipeline; the megaflow datapath will later cache translations.

import type { Match, TextAction } from '../openflow/index.js';
import { vlogModule } from '../lib/vlog.js';
import { PORT_CONFIG, type XlateBridge } from './bridge.js';
import { executeActions } from './execute.js';
import { extractFlow, newKey, port32, set, XlateFieldError } from './key.js';
import { macTableOf } from './mac-learning.js';
import { translate, type XlateResult } from './xlate.js';

const log = vlogModule('xlate');

export interface PipelineStats {
  /** Packets translated (received and packet-outs). */
  packets: number;
  /** Packets whose translation produced no action. */
  dropped: number;
  /** Packets dropped because a translation failed (recursion limits, ct). */
  failed: number;
  /** Of those, packets that needed conntrack, which this pipeline does not have. */
  ctDropped: number;
  meterDropped: number;
  packetIns: number;
}

export interface PipelineOptions {
  /** Milliseconds, monotonic (rule `used` times, meters); default performance.now. */
  now?: () => number;
}

export class Pipeline {
  readonly stats: PipelineStats = { packets: 0, dropped: 0, failed: 0, ctDropped: 0, meterDropped: 0, packetIns: 0 };
  private readonly now: () => number;
  /** When a drop was last logged: at most one warning a second, as OVS rate-limits them. */
  private lastWarn = -Infinity;

  constructor(opts: PipelineOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** A port left the bridge: NORMAL forgets the addresses learned on it. */
  portRemoved(bridge: XlateBridge, ofport: number): void {
    macTableOf(bridge).flushPort(ofport);
  }

  /** A frame arrived on OpenFlow port `inPort` (16-bit). */
  receive(bridge: XlateBridge, inPort: number, frame: Uint8Array): void {
    const p = bridge.ports.get(inPort);
    if (p && p.config & PORT_CONFIG.PORT_DOWN) return;
    const key = newKey();
    extractFlow(frame, frame.length, port32(inPort), key);
    this.run(bridge, inPort, frame, key, undefined);
  }

  /** A controller's PACKET_OUT: its actions run on the frame as if it came in on `inPort`. */
  packetOut(bridge: XlateBridge, inPort: number, frame: Uint8Array, actions: readonly TextAction[], metadata: Match): void {
    const key = newKey();
    extractFlow(frame, frame.length, port32(inPort), key);
    for (const [name, fm] of Object.entries(metadata)) {
      if (name === 'in_port' || name === 'in_phy_port') continue;
      try {
        set(key, name, fm.value);
      } catch (e) {
        if (!(e instanceof XlateFieldError)) throw e;
        log.warn(`${bridge.name}: packet-out metadata field ${name} ignored`);
      }
    }
    this.run(bridge, inPort, frame, key, actions);
  }

  private run(bridge: XlateBridge, inPort: number, frame: Uint8Array, key: Uint32Array, actions: readonly TextAction[] | undefined): void {
    const now = this.now();
    this.stats.packets++;
    let res: XlateResult;
    try {
      res = translate({
        bridge, mac: macTableOf(bridge), flow: key, inPort, trace: false, sideEffects: true,
        credit: { bytes: frame.length, now }, packet: frame, ...(actions ? { actions } : {}),
      });
    } catch (e) {
      // A flow the pipeline cannot run must cost one packet, not the daemon.
      this.stats.failed++;
      this.warn(now, `${bridge.name}: translation error, packet dropped: ${(e as Error).message}`);
      return;
    }
    if (res.error) {
      this.stats.failed++;
      if (res.error === 'Conntrack is not supported') this.stats.ctDropped++;
      this.warn(now, `${bridge.name}: translation failed (${res.error}), packet dropped`);
      return;
    }
    if (!res.dp.length) {
      this.stats.dropped++;
      return;
    }
    const ex = executeActions(bridge, res.dp, frame, now, (b, port, f) => this.receive(b, port, f));
    if (ex.meterDropped) this.stats.meterDropped++;
    this.stats.packetIns += ex.packetIns;
  }

  private warn(now: number, message: string): void {
    if (now - this.lastWarn < 1000) return;
    this.lastWarn = now;
    log.warn(message);
  }
}

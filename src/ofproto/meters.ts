// The meter table of one switch (OVS's meters in ofproto.c with the
// userspace datapath's dp_meter): METER_MOD with OVS 3.1's checks and error
// codes, the token-bucket rate limiter the pipeline runs packets through,
// and the meter statistics, configuration and features replies.

import { OfError, type MessageOf, type MeterBand, type MeterConfig, type MeterFeatures, type MeterStats, type TextAction } from '../openflow/index.js';

/** OFPMF_* flags. */
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
const SUPPORTED_FLAGS = 0xf;
const MC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
const OFPMBT_DROP = 1;
const OFPMBT_DSCP_REMARK = 2;
/** The largest real meter id, and the virtual meters OVS accepts. */
export const OFPM_MAX = 0xffff0000;
export const OFPM_SLOWPATH = 0xfffffffd;
export const OFPM_CONTROLLER = 0xfffffffe;
export const OFPM_ALL = 0xffffffff;
/** What OVS's userspace datapath offers: 2^18 meters of up to 8 bands. */
const MAX_METERS = 1 << 18;
const MAX_BANDS = 8;
/** Every band is 16 bytes on the wire; OVS refuses any other length. */
const BAND_LEN = 16;

export type BandType = 'drop' | 'dscp_remark';

export interface Band {
  readonly type: BandType;
  /** kbps or packets per second, as the meter's flags say. */
  readonly rate: number;
  /** As configured; a burst of 0 means "the rate" (OVS's default). */
  readonly burstSize: number;
  /** dscp_remark: how much to raise the drop precedence. */
  readonly precLevel: number;
  /** Packets and bytes this band fired on (numbers: the per-packet path allocates nothing). */
  packets: number;
  bytes: number;
  /** The token bucket: bits (kbps meters) or thousandths of packets (pktps), at most burst × 1000. */
  tokens: number;
}

export interface Meter {
  readonly id: number;
  readonly flags: number;
  readonly bands: readonly Band[];
  readonly created: number;
  /** When packets last passed (ms): tokens are refilled for the whole milliseconds since. */
  used: number;
  /** The longest refill that matters: enough to fill every band's bucket (ms). */
  readonly maxDeltaT: number;
  /** Packets and bytes that reached the meter. */
  packets: number;
  bytes: number;
  /** Flows whose actions use this meter (the core counts them with ruleRefs). */
  flowCount: number;
}

/** What a packet gets from a meter. */
export interface MeterVerdict {
  readonly drop: boolean;
  /** A dscp_remark band fired: raise the drop precedence by this much. */
  readonly dscpRemark?: number;
}

const PASS: MeterVerdict = Object.freeze({ drop: false });
const DROP: MeterVerdict = Object.freeze({ drop: true });

export interface MeterTableOptions {
  /** How many meters the table holds (OVS's userspace datapath: 262144). */
  maxMeters?: number;
  /** Band types accepted; OVS's userspace datapath implements only drop. */
  bandTypes?: readonly BandType[];
  /** Called after meters are deleted; the core deletes the flows that use them, as OpenFlow requires. */
  onDeleted?(ids: number[]): void;
  /** Clock in milliseconds (default performance.now). */
  now?(): number;
}

export class MeterTable {
  private readonly meters = new Map<number, Meter>();
  private readonly maxMeters: number;
  private readonly bandTypes: number;
  private readonly now: () => number;
  /** Verdicts of dscp_remark bands by precedence increase, so apply() allocates nothing. */
  private readonly remarks: MeterVerdict[] = [];

  constructor(private readonly opts: MeterTableOptions = {}) {
    this.maxMeters = opts.maxMeters ?? MAX_METERS;
    const types = opts.bandTypes ?? ['drop'];
    this.bandTypes = (types.includes('drop') ? 1 << OFPMBT_DROP : 0) | (types.includes('dscp_remark') ? 1 << OFPMBT_DSCP_REMARK : 0);
    this.now = opts.now ?? (() => performance.now());
    for (let i = 0; i < 256; i++) this.remarks.push(Object.freeze({ drop: false, dscpRemark: i }));
  }

  get size(): number {
    return this.meters.size;
  }

  get(id: number): Meter | undefined {
    return this.meters.get(id);
  }

  ids(): number[] {
    return [...this.meters.keys()];
  }

  /** Every meter in id order. */
  all(): Meter[] {
    return [...this.meters.values()].sort((a, b) => a.id - b.id);
  }

  // ------------------------------------------------------------ METER_MOD

  /** Executes an OFPT_METER_MOD; throws OfError with the error OVS 3.1's userspace datapath sends for each failure. */
  handleMeterMod(msg: MessageOf<'METER_MOD'>): void {
    const { command, flags, meter_id: id, bands } = msg.body;
    if (command !== MC.ADD && command !== MC.MODIFY && command !== MC.DELETE) throw new OfError('OFPMMFC_BAD_COMMAND', `meter command ${command}`);
    if (command === MC.DELETE) {
      this.delete(id);
      return;
    }
    // Checks made while decoding (ofputil_decode_meter_mod), then by ofproto, then by the datapath.
    if ((flags & OFPMF.KBPS) && (flags & OFPMF.PKTPS)) throw new OfError('OFPMMFC_BAD_FLAGS', 'both kbps and pktps');
    for (const b of bands) {
      const len = 'raw' in b ? b.data.length + 4 : 'experimenter' in b ? BAND_LEN + b.data.length : BAND_LEN;
      if (len !== BAND_LEN) throw new OfError('OFPBRC_BAD_LEN', `meter band of ${len} bytes`);
      if (b.type !== OFPMBT_DROP && b.type !== OFPMBT_DSCP_REMARK) throw new OfError('OFPMMFC_BAD_BAND', `band type ${b.type}`);
    }
    if (id === 0 || (id > OFPM_MAX && id !== OFPM_SLOWPATH && id !== OFPM_CONTROLLER)) throw new OfError('OFPMMFC_INVALID_METER', `meter id ${id}`);
    if (bands.length > MAX_BANDS) throw new OfError('OFPMMFC_OUT_OF_BANDS', `${bands.length} bands`);
    const old = this.meters.get(id);
    if (command === MC.ADD) {
      if (old) throw new OfError('OFPMMFC_METER_EXISTS', `meter ${id} exists`);
      if (this.meters.size >= this.maxMeters) throw new OfError('OFPMMFC_OUT_OF_METERS', `${this.meters.size} meters`);
    } else if (!old) {
      throw new OfError('OFPMMFC_UNKNOWN_METER', `no meter ${id}`);
    }
    this.checkDatapath(flags, bands);
    // A modified meter starts afresh (full buckets, zero counters), as the datapath replaces it; its age stays.
    const now = this.now();
    this.meters.set(id, makeMeter(id, flags, bands, old?.created ?? now, now, old?.flowCount ?? 0));
  }

  /** dpif_meter_set and the userspace datapath's checks, in their order. */
  private checkDatapath(flags: number, bands: readonly MeterBand[]): void {
    if (!(flags & (OFPMF.KBPS | OFPMF.PKTPS))) throw new OfError('OFPMMFC_BAD_FLAGS', 'neither kbps nor pktps');
    if (bands.length === 0) throw new OfError('OFPMMFC_OUT_OF_BANDS', 'a meter needs a band');
    for (const b of bands) if (!('raw' in b) && b.rate === 0) throw new OfError('OFPMMFC_BAD_RATE', 'band rate 0');
    if (flags & ~SUPPORTED_FLAGS) throw new OfError('OFPMMFC_BAD_FLAGS', `flags 0x${flags.toString(16)}`);
    for (const b of bands) if (!(this.bandTypes & (1 << b.type))) throw new OfError('OFPMMFC_BAD_BAND', `band type ${b.type} is not supported`);
  }

  private delete(id: number): void {
    // Meter 0 does not exist in OpenFlow; deleting it, or a meter that is not there, does nothing.
    const ids = id === OFPM_ALL ? [...this.meters.keys()] : id !== 0 && this.meters.has(id) ? [id] : [];
    if (!ids.length) return;
    for (const m of ids) this.meters.delete(m);
    this.opts.onDeleted?.(ids);
  }

  removeAll(): void {
    this.delete(OFPM_ALL);
  }

  /** A copy of the table's contents, for putting it back after a failed bundle. */
  snapshot(): ReadonlyMap<number, Meter> {
    return new Map(this.meters);
  }

  restore(snap: ReadonlyMap<number, Meter>): void {
    this.meters.clear();
    for (const [id, m] of snap) this.meters.set(id, m);
  }

  /** Counts a flow's use of a meter: +1 when the flow is added, -1 when it goes (its first meter action, as OVS). */
  ruleRefs(actions: readonly TextAction[], delta: 1 | -1): void {
    for (const a of actions) {
      if (a.type !== 'meter') continue;
      const m = this.meters.get(a.meter);
      if (m) m.flowCount = Math.max(0, m.flowCount + delta);
      return;
    }
  }

  // ------------------------------------------------------------ the pipeline's side

  /**
   * Runs one packet of `packetBytes` through meter `id` at time `now` (ms):
   * null when there is no such meter (the packet passes). Every band's
   * bucket is refilled for the whole milliseconds since the last packet; the
   * packet exceeds the bands whose bucket cannot pay for it, and the one of
   * those with the highest rate fires (counts it; drop, or dscp remark).
   */
  apply(id: number, packetBytes: number, now: number): MeterVerdict | null {
    const m = this.meters.get(id);
    if (!m) return null;
    const band = meterPacket(m, packetBytes, now);
    if (band < 0) return PASS;
    const b = m.bands[band]!;
    return b.type === 'drop' ? DROP : this.remarks[b.precLevel & 0xff]!;
  }

  /**
   * A batch through meter `id`, all at time `now`: `out[i]` becomes 1 for a
   * packet to drop, else 0 (dscp remarks are not reported here). Same result
   * as the datapath's batch metering. False when there is no such meter.
   */
  applyBatch(id: number, sizes: ArrayLike<number>, count: number, now: number, out: Uint8Array): boolean {
    const m = this.meters.get(id);
    if (!m) return false;
    for (let i = 0; i < count; i++) {
      const band = meterPacket(m, sizes[i]!, now);
      out[i] = band >= 0 && m.bands[band]!.type === 'drop' ? 1 : 0;
    }
    return true;
  }

  // ------------------------------------------------------------ statistics

  private select(id: number): Meter[] {
    if (id === OFPM_ALL) return this.all();
    const m = this.meters.get(id);
    if (!m) throw new OfError('OFPMMFC_UNKNOWN_METER', `no meter ${id}`);
    return [m];
  }

  /** OFPMP_METER entries; an unknown meter id is an error, as in OVS. */
  statsReply(req: { id: number }, version: number): MeterStats[] {
    void version;
    const now = this.now();
    return this.select(req.id).map((m) => {
      const ms = Math.max(0, now - m.created);
      const sec = Math.floor(ms / 1000);
      return {
        meter_id: m.id, flow_count: m.flowCount, packet_in_count: BigInt(m.packets), byte_in_count: BigInt(m.bytes),
        duration_sec: sec, duration_nsec: Math.floor((ms - sec * 1000) * 1e6),
        band_stats: m.bands.map((b) => ({ packet_band_count: BigInt(b.packets), byte_band_count: BigInt(b.bytes) })),
      };
    });
  }

  /** OFPMP_METER_CONFIG entries: flags and bands as the switch keeps them (an unset burst reads back as the rate). */
  configReply(req: { id: number }, version: number): MeterConfig[] {
    void version;
    return this.select(req.id).map((m) => ({
      flags: m.flags, meter_id: m.id,
      bands: m.bands.map((b): MeterBand => (b.type === 'drop'
        ? { type: OFPMBT_DROP, rate: b.rate, burst_size: b.burstSize }
        : { type: OFPMBT_DSCP_REMARK, rate: b.rate, burst_size: b.burstSize, prec_level: b.precLevel })),
    }));
  }

  /** OFPMP_METER_FEATURES as OVS 3.1's userspace datapath answers (same layout in every version). */
  featuresReply(version: number): MeterFeatures {
    void version;
    return { max_meter: this.maxMeters, band_types: this.bandTypes, capabilities: SUPPORTED_FLAGS, max_bands: MAX_BANDS, max_color: 0 };
  }
}

function makeMeter(id: number, flags: number, wire: readonly MeterBand[], created: number, now: number, flowCount: number): Meter {
  let maxDeltaT = 0;
  const bands = wire.map((w): Band => {
    const b = w as { type: number; rate: number; burst_size: number; prec_level?: number };
    const burstSize = b.burst_size || b.rate;
    const tokens = burstSize * 1000;
    maxDeltaT = Math.max(maxDeltaT, Math.floor(tokens / b.rate));
    return {
      type: b.type === OFPMBT_DROP ? 'drop' : 'dscp_remark', rate: b.rate, burstSize, precLevel: b.prec_level ?? 0,
      packets: 0, bytes: 0, tokens,
    };
  });
  return { id, flags, bands, created, used: now, maxDeltaT, packets: 0, bytes: 0, flowCount };
}

/** One packet through a meter (dp_netdev_run_meter for a batch of one): the index of the band that fires, or -1. */
function meterPacket(m: Meter, size: number, now: number): number {
  let delta = Math.floor(now) - Math.floor(m.used);
  if (delta < 0) delta = 0;
  if (delta > m.maxDeltaT) delta = m.maxDeltaT;
  m.used = now;
  m.packets++;
  m.bytes += size;
  const volume = m.flags & OFPMF.PKTPS ? 1000 : size * 8;
  let fired = -1;
  let firedRate = 0;
  for (let i = 0; i < m.bands.length; i++) {
    const b = m.bands[i]! as Band;
    const cap = b.burstSize * 1000;
    b.tokens = Math.min(cap, b.tokens + delta * b.rate);
    if (b.tokens >= volume) {
      b.tokens -= volume;
    } else if (b.rate > firedRate) {
      fired = i;
      firedRate = b.rate;
    }
  }
  if (fired >= 0) {
    const b = m.bands[fired]! as Band;
    b.packets++;
    b.bytes += size;
  }
  return fired;
}

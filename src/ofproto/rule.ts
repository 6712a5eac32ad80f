// One OpenFlow flow entry (OVS's struct rule) and the wire forms it takes in
// replies: flow statistics of every version, NXST_FLOW, FLOW_REMOVED, and
// the flow-monitor updates.

import {
  actionsToWire, instructionsToWire, oxmNames, protocolOfVersion,
  type Match, type Protocol, type TextAction, type OfMessage, type FlowStats, type NxFlowStats,
} from '../openflow/index.js';
import { matchOfWords, type TunMetadataLayout } from '../flow/index.js';
import { shareActions, type ActionSet } from './action-set.js';
import { compactWords, type ClsRule } from './classifier.js';
import { FF } from './flow-mod.js';

/** OFPRR_*: why a flow went away. */
export const REMOVED_REASON = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3, METER_DELETE: 4, EVICTION: 5 } as const;

/** Fields OF1.0's fixed ofp_match can carry: the rest is dropped when a flow is reported in plain OF1.0. */
const OF10_FIELDS = new Set([
  'in_port', 'eth_src', 'eth_dst', 'vlan_tci', 'eth_type', 'nw_tos', 'nw_proto', 'ip_src', 'ip_dst', 'arp_spa', 'arp_tpa', 'arp_op',
  'tcp_src', 'tcp_dst', 'udp_src', 'udp_dst', 'icmp_type', 'icmp_code', 'sctp_src', 'sctp_dst',
]);

export function of10Subset(m: Match): Match {
  const out: Record<string, { value: bigint; mask?: bigint }> = {};
  for (const [k, v] of Object.entries(m)) if (OF10_FIELDS.has(k)) out[k] = v;
  return out;
}

/** Milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

const ALL_ONES_64 = 0xffffffffffffffffn;

/** idle_age / hard_age of NXST_FLOW: whole seconds since `t`, plus one, at most 65535. */
function ageOf(now: number, t: number): number {
  return Math.min(0xffff, Math.floor((now - t) / 1000) + 1);
}

function duration(since: number, now: number): { duration_sec: number; duration_nsec: number } {
  // Whole milliseconds, as OVS's clock gives them (ovs-ofctl then prints durations like 0.074s).
  const ms = Math.floor(Math.max(0, now - since));
  const sec = Math.floor(ms / 1000);
  return { duration_sec: sec, duration_nsec: (ms - sec * 1000) * 1e6 };
}

export class Rule implements ClsRule {
  packets = 0;
  bytes = 0;
  /** Last time a packet hit it (monotonic ms); idle timeouts and idle_age count from here. */
  used: number;
  /** Last add/modify time (hard_age). */
  modified: number;
  /** Set once removed from its table, so late references (packet-outs in flight) see it is gone. */
  removed = false;

  /** The value on the mask's non-zero words (see ClsRule). */
  readonly words: readonly number[];

  constructor(
    readonly tableId: number,
    readonly priority: number,
    value: Uint32Array,
    /** Shared by the rules of a subtable (Classifier.internMask). */
    readonly mask: Uint32Array,
    public cookie: bigint,
    actions: readonly TextAction[],
    readonly idleTimeout: number,
    readonly hardTimeout: number,
    readonly importance: number,
    readonly flags: number,
    readonly created: number,
  ) {
    this.words = compactWords(value, mask);
    this.used = created;
    this.modified = created;
    this.acts = shareActions(actions);
  }

  /** The bridge's TLV mapping, for a rule that matches tun_metadata (the fields it uses stay mapped while it lives). */
  tunMetadata: TunMetadataLayout | undefined = undefined;
  /** tun_metadata fields the rule's match and actions use (bit i: tun_metadata<i>), each holding a TLV-table ref. */
  tlvBits = 0n;

  /** The canonical match (NXM names), as replies print it: made from mask and words when asked for, not kept. */
  get match(): Match {
    return matchOfWords(this.mask, this.words, this.tunMetadata);
  }

  /** Shared with every rule whose actions are the same, wire forms included. */
  private acts: ActionSet;

  get actions(): readonly TextAction[] {
    return this.acts.list;
  }

  set actions(list: readonly TextAction[]) {
    this.acts = shareActions(list);
  }

  /** Actions (OF1.0/NXM) or instructions (OF1.1+) of `p`, leaving out what it cannot carry. */
  private wireActions(p: Protocol): unknown {
    return this.acts.wireFor(p, encodable);
  }

  get sendFlowRemoved(): boolean {
    return (this.flags & FF.SEND_FLOW_REM) !== 0;
  }

  /** Monotonic ms at which it expires, or Infinity. */
  expiry(): { at: number; reason: number } | null {
    let best: { at: number; reason: number } | null = null;
    if (this.hardTimeout) best = { at: this.modified + this.hardTimeout * 1000, reason: REMOVED_REASON.HARD_TIMEOUT };
    if (this.idleTimeout) {
      const at = this.used + this.idleTimeout * 1000;
      if (!best || at < best.at) best = { at, reason: REMOVED_REASON.IDLE_TIMEOUT };
    }
    return best;
  }

  /** A flow-stats entry in `version`'s form; `nx` gives the NXST_FLOW form (OF1.0 + NXM). */
  statsEntry(version: number, now: number, nx: boolean): FlowStats | NxFlowStats {
    const d = duration(this.created, now);
    // All ones when counting is off (OFPFF_NO_*_COUNTS), as OVS reports it.
    const packet_count = this.flags & FF.NO_PKT_COUNTS ? ALL_ONES_64 : BigInt(this.packets);
    const byte_count = this.flags & FF.NO_BYT_COUNTS ? ALL_ONES_64 : BigInt(this.bytes);
    if (version === 1 && nx) {
      // One literal per reply entry, no spreads: a dump builds one of these for every rule.
      return {
        table_id: this.tableId, duration_sec: d.duration_sec, duration_nsec: d.duration_nsec, priority: this.priority,
        idle_timeout: this.idleTimeout, hard_timeout: this.hardTimeout, cookie: this.cookie,
        idle_age: ageOf(now, this.used), hard_age: this.modified === this.created ? 0 : ageOf(now, this.modified),
        packet_count, byte_count, match: this.match, actions: this.wireActions('NXM'),
      } as unknown as NxFlowStats;
    }
    const common = { table_id: this.tableId, ...d, priority: this.priority, idle_timeout: this.idleTimeout, hard_timeout: this.hardTimeout, cookie: this.cookie };
    if (version === 1) {
      return { ...common, match: of10Subset(this.match), packet_count, byte_count, actions: this.wireActions('OpenFlow10') } as unknown as FlowStats;
    }
    const p = protocolOfVersion(version);
    const match = oxmNames(this.match);
    const instructions = this.wireActions(p);
    if (version >= 6) {
      const ms = Math.max(0, now - this.created);
      const idleMs = Math.max(0, now - this.used);
      const oxs = (x: number) => (BigInt(Math.floor(x / 1000)) << 32n) | BigInt(Math.floor((x % 1000) * 1e6));
      return {
        table_id: this.tableId, priority: this.priority, idle_timeout: this.idleTimeout, hard_timeout: this.hardTimeout,
        flags: this.flags, importance: this.importance, cookie: this.cookie, match,
        stats: { duration: oxs(ms), idle_time: oxs(idleMs), packet_count, byte_count }, instructions,
      } as unknown as FlowStats;
    }
    return {
      ...common, flags: this.flags, ...(version >= 5 ? { importance: this.importance } : {}), packet_count, byte_count, match, instructions,
    } as unknown as FlowStats;
  }

  /** The match and actions a flow monitor update carries: NXM and actions in OF1.0, OXM and instructions later; no actions unless asked. */
  monitorBody(version: number, withActions: boolean): { match: Match; actions?: unknown; instructions?: unknown } {
    if (version === 1) return { match: this.match, actions: withActions ? this.wireActions('NXM') : [] };
    const p = protocolOfVersion(version);
    return { match: oxmNames(this.match), instructions: withActions ? this.wireActions(p) : [] };
  }

  /** The FLOW_REMOVED a connection gets (`nx`: NXT_FLOW_REMOVED for an OF1.0 connection using NXM). */
  removedMessage(version: number, reason: number, now: number, nx: boolean, xid = 0): OfMessage {
    const d = duration(this.created, now);
    const packet_count = BigInt(this.packets);
    const byte_count = BigInt(this.bytes);
    if (version === 1) {
      if (nx) {
        return {
          version, xid, kind: 'NXT_FLOW_REMOVED',
          body: { cookie: this.cookie, priority: this.priority, reason, table_id: this.tableId, ...d, idle_timeout: this.idleTimeout, packet_count, byte_count, match: this.match },
        } as unknown as OfMessage;
      }
      return {
        version, xid, kind: 'FLOW_REMOVED',
        body: { match: of10Subset(this.match), cookie: this.cookie, priority: this.priority, reason, ...d, idle_timeout: this.idleTimeout, packet_count, byte_count },
      } as unknown as OfMessage;
    }
    const match = oxmNames(this.match);
    if (version >= 6) {
      const ms = Math.max(0, now - this.created);
      const oxs = (x: number) => (BigInt(Math.floor(x / 1000)) << 32n) | BigInt(Math.floor((x % 1000) * 1e6));
      return {
        version, xid, kind: 'FLOW_REMOVED',
        body: {
          table_id: this.tableId, reason, priority: this.priority, idle_timeout: this.idleTimeout, hard_timeout: this.hardTimeout,
          cookie: this.cookie, match, stats: { duration: oxs(ms), packet_count, byte_count },
        },
      } as unknown as OfMessage;
    }
    return {
      version, xid, kind: 'FLOW_REMOVED',
      body: {
        cookie: this.cookie, priority: this.priority, reason, table_id: this.tableId, ...d, idle_timeout: this.idleTimeout,
        hard_timeout: this.hardTimeout, packet_count, byte_count, match,
      },
    } as unknown as OfMessage;
  }
}

/**
 * The actions a version can carry: one that has no form in it (push_vlan in
 * OF1.0, say) is left out of the reply, as OVS encodes what it can, rather
 * than failing the whole dump.
 */
function encodable(list: readonly TextAction[], p: Protocol): TextAction[] {
  return list.filter((a) => {
    try {
      if (a.type === 'write_actions') return true;
      actionsToWire([a], p);
      return true;
    } catch {
      return false;
    }
  }).map((a) => (a.type === 'write_actions' ? { ...a, actions: encodable(a.actions, p) } : a));
}

/** Actions in the wire form of a version (OF1.0: plain actions; later: instructions). */
export function wireActions(list: readonly TextAction[], version: number): unknown {
  return version === 1 ? actionsToWire(list, 'OpenFlow10') : instructionsToWire(list, protocolOfVersion(version));
}

// Flow monitors (OVS's ofmonitor): a connection asks to hear about flows that
// match a filter, gets the matching flows at once (INITIAL) and then one
// update for every flow added, modified or removed. Nicira's NXST (OF1.0),
// ONF's ONFST (OF1.3) and OpenFlow 1.4's OFPMP_FLOW_MONITOR share these
// semantics; only the wire forms differ. Updates caused by a connection's own
// flow_mods reach it as one abbreviated update (the xid) unless it asked for
// them in full. A connection that stops reading is paused, and resumed with
// a refresh of what changed meanwhile, so updates cannot pile up unbounded.

import {
  OfError, OFPFME, NXFME, port11To10, splitMultipartReply, validateMatch, type Match, type MessageOf, type MultipartReply, type OfMessage, type TextAction,
} from '../openflow/index.js';
import { matchToKeyMask, type TunMetadataLayout } from '../flow/index.js';
import type { OfConn } from './ofconn.js';
import { actionsOutputTo, actionsOutputToGroup, canonicalMatch, GROUP_ANY, N_TABLES, TABLE_ALL } from './flow-mod.js';
import type { Rule } from './rule.js';
import { Classifier } from './classifier.js';

/** OFPFMF_* (OpenFlow 1.4 numbering, which the Nicira/ONF flags are mapped to, as OVS does). */
const F = { INITIAL: 1, ADD: 2, REMOVED: 4, MODIFY: 8, INSTRUCTIONS: 16, NO_ABBREV: 32, ONLY_OWN: 64 } as const;
/** NXFMF_* / ONFFMF_*. */
const NXF = { INITIAL: 1, ADD: 2, DELETE: 4, MODIFY: 8, ACTIONS: 16, OWN: 32 } as const;
const OFPFMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** Unsent bytes past which a monitoring connection is paused (OVS's 128 kB). */
const PAUSE_BYTES = 128 * 1024;
const RESUME_POLL_MS = 50;

/** What the monitors need of the switch. */
export interface MonitoredSwitch {
  readonly tables: ReadonlyArray<{ readonly cls: { iterLoose(value: Uint32Array, mask: Uint32Array): Iterable<Rule> } }>;
  /** The bridge's Geneve TLV mapping, which places a monitor's tun_metadata match. */
  readonly tlvTable?: TunMetadataLayout;
}

/** What a rule change reports (Ofproto's RuleEvent, as monitors read it). */
export interface MonitorEvent {
  readonly event: 'added' | 'modified' | 'removed';
  readonly rule: Rule;
  /** OFPRR_* for a removal; absent for a silent one (a replaced or flushed rule), which monitors do not report. */
  readonly reason?: number;
  /** Actions before a modify; a modify that changed neither actions nor cookie is not reported. */
  readonly oldActions?: readonly TextAction[];
  readonly oldCookie?: bigint;
  /** The connection whose request caused the change, and its xid (for abbreviated updates). */
  readonly conn?: OfConn;
  readonly xid?: number;
}

interface FlowMonitor {
  readonly id: number;
  readonly flags: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly tableId: number;
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
}

interface Update {
  readonly event: number;
  readonly rule?: Rule;
  readonly reason?: number;
  readonly withActions?: boolean;
  readonly xid?: number;
}

interface ConnState {
  readonly monitors: Map<number, FlowMonitor>;
  /** Updates gathered since the last flush, sent as one reply. */
  pending: Update[];
  sentAbbrev: boolean;
  /** Non-zero while paused: the sequence number at the moment of pausing. */
  pausedAt: number;
}

export class FlowMonitors {
  private readonly conns = new Map<OfConn, ConnState>();
  private seqno = 1;
  /** Per rule: when it was added and last modified, in monitor sequence numbers. */
  private readonly addSeq = new WeakMap<Rule, number>();
  private readonly modSeq = new WeakMap<Rule, number>();
  private flushQueued = false;
  private resumeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly sw: MonitoredSwitch) {}

  get active(): boolean {
    return this.conns.size > 0;
  }

  /** A FLOW_MONITOR (OF1.4+) or NXST/ONFST_FLOW_MONITOR request: add, modify or delete monitors, reply with the initial flows. */
  handleRequest(conn: OfConn, msg: MessageOf<'MULTIPART_REQUEST'>): void {
    const req = msg.body as { stat: string; body: unknown };
    const nx = req.stat === 'NX_FLOW_MONITOR';
    const requests = nx ? [(req.body as { body: unknown }).body] : [req.body];
    const st = this.stateOf(conn);
    const created: FlowMonitor[] = [];
    try {
      for (const r of requests) {
        const { command, monitor } = this.decode(r, conn.version, nx);
        if (command === OFPFMC.DELETE || command === OFPFMC.MODIFY) {
          if (!st.monitors.has(monitor.id)) throw new OfError('OFPMOFC_UNKNOWN_MONITOR', `monitor ${monitor.id}`);
          st.monitors.delete(monitor.id);
          if (command === OFPFMC.DELETE) continue;
        } else if (st.monitors.has(monitor.id)) {
          throw new OfError('OFPMOFC_MONITOR_EXISTS', `monitor ${monitor.id}`);
        }
        st.monitors.set(monitor.id, monitor);
        created.push(monitor);
      }
    } catch (e) {
      for (const m of created) st.monitors.delete(m.id);
      this.forgetIfIdle(conn, st);
      throw e;
    }
    const initial = new Map<Rule, number>();
    for (const m of created) if (m.flags & F.INITIAL) this.collect(m, 0, initial);
    const updates = sortRules([...initial]).map(([rule, flags]) => ({ event: OFPFME.INITIAL, rule, withActions: (flags & F.INSTRUCTIONS) !== 0 }));
    this.sendUpdates(conn, updates, msg.xid, nx ? 'NX_FLOW_MONITOR' : 'FLOW_MONITOR');
    this.forgetIfIdle(conn, st);
  }

  /** NXT_FLOW_MONITOR_CANCEL. */
  cancel(conn: OfConn, id: number): void {
    const st = this.conns.get(conn);
    if (!st?.monitors.delete(id)) throw new OfError('OFPMOFC_UNKNOWN_MONITOR', `monitor ${id}`);
    this.forgetIfIdle(conn, st);
  }

  connectionClosed(conn: OfConn): void {
    this.conns.delete(conn);
  }

  /** A flow changed: queue an update for every connection with a monitor that covers it. */
  report(e: MonitorEvent): void {
    const seq = this.seqno++;
    const rule = e.rule;
    let event: number;
    let want: number;
    if (e.event === 'added') {
      this.addSeq.set(rule, seq);
      this.modSeq.set(rule, seq);
      event = OFPFME.ADDED;
      want = F.ADD;
    } else if (e.event === 'modified') {
      const changed = e.oldActions === undefined || e.oldCookie === undefined || e.oldCookie !== rule.cookie
        || JSON.stringify(e.oldActions, bigintText) !== JSON.stringify(rule.actions, bigintText);
      if (!changed) return;
      this.modSeq.set(rule, seq);
      event = OFPFME.MODIFIED;
      want = F.MODIFY;
    } else {
      if (e.reason === undefined) return;
      event = OFPFME.REMOVED;
      want = F.REMOVED;
    }
    for (const [conn, st] of this.conns) {
      if (st.pausedAt && (event !== OFPFME.REMOVED || (this.addSeq.get(rule) ?? 0) > st.pausedAt)) continue;
      let flags = 0;
      for (const m of st.monitors.values()) {
        if (m.flags & want && this.covers(m, rule, e.oldActions)) flags |= m.flags;
      }
      if (!flags) continue;
      if (st.pending.length === 0) st.sentAbbrev = false;
      if (flags & F.ONLY_OWN || conn !== e.conn || st.pausedAt) {
        st.pending.push({ event, rule, ...(event === OFPFME.REMOVED ? { reason: e.reason } : {}), withActions: (flags & F.INSTRUCTIONS) !== 0 });
      } else if (!st.sentAbbrev) {
        st.pending.push({ event: OFPFME.ABBREV, xid: e.xid ?? 0 });
        st.sentAbbrev = true;
      }
      this.scheduleFlush();
    }
  }

  /** Sends what report() gathered: one reply per connection (OVS flushes after each flow_mod). */
  flush(): void {
    this.flushQueued = false;
    for (const [conn, st] of this.conns) {
      if (!st.pending.length) continue;
      const updates = st.pending;
      st.pending = [];
      this.sendUpdates(conn, updates, 0, conn.version >= 5 ? 'FLOW_MONITOR' : 'NX_FLOW_MONITOR');
      if (!st.pausedAt && (conn.unsentBytes?.() ?? 0) > PAUSE_BYTES) {
        st.pausedAt = this.seqno++;
        this.sendPauseEvent(conn, true);
        this.scheduleResumeCheck();
      }
    }
  }

  // ------------------------------------------------------------ internals

  private stateOf(conn: OfConn): ConnState {
    let st = this.conns.get(conn);
    if (!st) {
      st = { monitors: new Map(), pending: [], sentAbbrev: false, pausedAt: 0 };
      this.conns.set(conn, st);
    }
    return st;
  }

  private forgetIfIdle(conn: OfConn, st: ConnState): void {
    if (st.monitors.size === 0 && st.pending.length === 0 && !st.pausedAt) this.conns.delete(conn);
  }

  private decode(body: unknown, version: number, nx: boolean): { command: number; monitor: FlowMonitor } {
    const b = body as {
      id?: number; monitor_id?: number; flags: number; out_port: number; out_group?: number; table_id: number; command?: number; match: Match;
    };
    let flags: number;
    let command: number;
    let outPort: number;
    if (nx) {
      if (!(b.flags & (NXF.ADD | NXF.DELETE | NXF.MODIFY)) || b.flags & ~0x3f) {
        throw new OfError('OFPMOFC_BAD_FLAGS', `flow monitor flags 0x${b.flags.toString(16)}`);
      }
      flags = ((b.flags & NXF.INITIAL) ? F.INITIAL : 0) | ((b.flags & NXF.ADD) ? F.ADD : 0) | ((b.flags & NXF.DELETE) ? F.REMOVED : 0)
        | ((b.flags & NXF.MODIFY) ? F.MODIFY : 0) | ((b.flags & NXF.ACTIONS) ? F.INSTRUCTIONS : 0) | ((b.flags & NXF.OWN) ? F.ONLY_OWN : 0);
      command = OFPFMC.ADD;
      outPort = version === 1 ? b.out_port : this.port16(b.out_port);
    } else {
      command = b.command ?? OFPFMC.ADD;
      if (command > OFPFMC.DELETE) throw new OfError('OFPMOFC_BAD_COMMAND', `flow monitor command ${command}`);
      flags = b.flags;
      if (command !== OFPFMC.DELETE && (!(flags & (F.ADD | F.REMOVED | F.MODIFY)) || flags & ~(F.INITIAL | F.ADD | F.REMOVED | F.MODIFY | F.INSTRUCTIONS | F.ONLY_OWN))) {
        throw new OfError('OFPMOFC_BAD_FLAGS', `flow monitor flags 0x${flags.toString(16)}`);
      }
      outPort = this.port16(b.out_port);
    }
    if (b.table_id !== TABLE_ALL && b.table_id >= N_TABLES + 1) throw new OfError('OFPBRC_BAD_TABLE_ID', `table ${b.table_id}`);
    validateMatch(b.match);
    const { value, mask } = matchToKeyMask(canonicalMatch(b.match), this.sw.tlvTable);
    return {
      command,
      monitor: { id: (nx ? b.id : b.monitor_id) ?? 0, flags, outPort, outGroup: nx ? GROUP_ANY : b.out_group ?? GROUP_ANY, tableId: b.table_id, value, mask },
    };
  }

  private port16(p: number): number {
    const q = port11To10(p);
    if (q === undefined) throw new OfError('OFPBRC_BAD_PORT', `port ${p}`);
    return q;
  }

  /** Whether monitor m watches this rule (table, out_port before or after a modify, out_group, loose match). */
  private covers(m: FlowMonitor, rule: Rule, oldActions?: readonly TextAction[]): boolean {
    if (m.tableId !== TABLE_ALL && m.tableId !== rule.tableId) return false;
    if (!actionsOutputTo(rule.actions, m.outPort) && !(oldActions && actionsOutputTo(oldActions, m.outPort))) return false;
    if (!actionsOutputToGroup(rule.actions, m.outGroup)) return false;
    return Classifier.covers(rule, m.value, m.mask);
  }

  /** Rules monitor m covers, with the flags to report them by: all of them (seqno 0), or those changed after seqno. */
  private collect(m: FlowMonitor, seqno: number, into: Map<Rule, number>): void {
    const tables = m.tableId === TABLE_ALL ? this.sw.tables : [this.sw.tables[m.tableId]].filter((t) => t !== undefined);
    for (const t of tables) {
      for (const rule of t.cls.iterLoose(m.value, m.mask)) {
        if (!actionsOutputTo(rule.actions, m.outPort) || !actionsOutputToGroup(rule.actions, m.outGroup)) continue;
        let update: number = F.INITIAL;
        if (seqno) {
          if ((this.addSeq.get(rule) ?? 0) > seqno) update = F.ADD | F.MODIFY;
          else if ((this.modSeq.get(rule) ?? 0) > seqno) update = F.MODIFY;
          else continue;
          if (!(m.flags & update)) continue;
        }
        into.set(rule, (into.get(rule) ?? 0) | update | (m.flags & F.INSTRUCTIONS));
      }
    }
  }

  private sendUpdates(conn: OfConn, updates: readonly Update[], xid: number, stat: 'FLOW_MONITOR' | 'NX_FLOW_MONITOR'): void {
    const v = conn.version;
    const entries = updates.map((u) => (v >= 5 ? this.ofpUpdate(u, v) : this.nxUpdate(u, v)));
    const body = { stat, flags: 0, body: { entries } } as MultipartReply;
    for (const part of splitMultipartReply(body, v)) conn.send({ version: v, xid, kind: 'MULTIPART_REPLY', body: part } as OfMessage);
  }

  private ofpUpdate(u: Update, v: number): unknown {
    if (u.event === OFPFME.ABBREV) return { event: u.event, xid: u.xid ?? 0 };
    if (u.event === OFPFME.PAUSED || u.event === OFPFME.RESUMED) return { event: u.event };
    const r = u.rule!;
    const { match, instructions } = r.monitorBody(v, u.withActions ?? false) as { match: Match; instructions: unknown };
    return {
      event: u.event, table_id: r.tableId, reason: u.reason ?? 0, idle_timeout: r.idleTimeout, hard_timeout: r.hardTimeout,
      priority: r.priority, cookie: r.cookie, match, instructions,
    };
  }

  private nxUpdate(u: Update, v: number): unknown {
    if (u.event === OFPFME.ABBREV) return { event: NXFME.ABBREV, xid: u.xid ?? 0 };
    const event = u.event === OFPFME.REMOVED ? NXFME.DELETED : u.event === OFPFME.MODIFIED ? NXFME.MODIFIED : NXFME.ADDED;
    const r = u.rule!;
    return {
      event, reason: u.reason ?? 0, priority: r.priority, idle_timeout: r.idleTimeout, hard_timeout: r.hardTimeout, table_id: r.tableId,
      cookie: r.cookie, ...r.monitorBody(v, u.withActions ?? false),
    };
  }

  private sendPauseEvent(conn: OfConn, paused: boolean): void {
    const v = conn.version;
    if (v >= 5) {
      this.sendUpdates(conn, [{ event: paused ? OFPFME.PAUSED : OFPFME.RESUMED }], 0, 'FLOW_MONITOR');
    } else {
      conn.send({ version: v, xid: 0, kind: paused ? 'NXT_FLOW_MONITOR_PAUSED' : 'NXT_FLOW_MONITOR_RESUMED', body: {} } as OfMessage);
    }
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** A paused connection resumes once everything queued to it went out: it gets what changed meanwhile, then RESUMED. */
  private scheduleResumeCheck(): void {
    if (this.resumeTimer) return;
    this.resumeTimer = setInterval(() => {
      let stillPaused = false;
      for (const [conn, st] of this.conns) {
        if (!st.pausedAt) continue;
        if ((conn.unsentBytes?.() ?? 0) > 0) {
          stillPaused = true;
          continue;
        }
        const rules = new Map<Rule, number>();
        for (const m of st.monitors.values()) this.collect(m, st.pausedAt, rules);
        const updates = sortRules([...rules]).map(([rule, flags]) => ({
          event: flags & F.ADD ? OFPFME.ADDED : OFPFME.MODIFIED, rule, withActions: (flags & F.INSTRUCTIONS) !== 0,
        }));
        st.pausedAt = 0;
        if (updates.length) this.sendUpdates(conn, updates, 0, conn.version >= 5 ? 'FLOW_MONITOR' : 'NX_FLOW_MONITOR');
        this.sendPauseEvent(conn, false);
      }
      if (!stillPaused && this.resumeTimer) {
        clearInterval(this.resumeTimer);
        this.resumeTimer = null;
      }
    }, RESUME_POLL_MS);
    this.resumeTimer.unref();
  }

  close(): void {
    if (this.resumeTimer) clearInterval(this.resumeTimer);
    this.resumeTimer = null;
    this.conns.clear();
  }
}

/** Table order, highest priority first: the order OVS's classifier walk reports flows in. */
function sortRules(list: Array<[Rule, number]>): Array<[Rule, number]> {
  return list.sort(([a], [b]) => a.tableId - b.tableId || b.priority - a.priority);
}

function bigintText(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

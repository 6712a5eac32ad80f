// One OpenFlow switch (OVS's struct ofproto): its 254 tables of rules, its
// ports, groups and meters, and the flow_mod semantics of OpenFlow (add with
// replace and overlap check, loose and strict modify and delete, timeouts,
// eviction, flow-removed messages). Messages reach it from connmgr through
// handleMessage (handler.ts); packets through the pipeline in src/xlate.

import { OfError, parseFlow, port10To11, type Match, type OfMessage, type TextAction } from '../openflow/index.js';
import { matchToKeyMask, tunMetadataPresentMap } from '../flow/index.js';
import { vlogModule } from '../lib/vlog.js';
import type { Netdev } from '../netdev/index.js';
import { Connmgr, type OfConn, type OfprotoHooks, type ControllerConfig } from './connmgr.js';
import {
  COOKIE_KEEP, FF, GROUP_ANY, canonicalMatch, NO_BUFFER, N_TABLES, TABLE_ALL, actionsOutputTo, actionsOutputToGroup, type OfFlowMod, type FlowStatsQuery,
} from './flow-mod.js';
import { GroupTable } from './groups.js';
import { MeterTable } from './meters.js';
import { OfPort, PC, OFPP_LOCAL } from './ports.js';
import { REMOVED_REASON, Rule, nowMs } from './rule.js';
import { OfTable, type TableConfig } from './table.js';
import { handleMessage } from './handler.js';
import { Bundles } from './bundles.js';
import { FlowMonitors } from './monitors.js';
import { TlvTable, bindTunMetadataActions, tlvBitsOfActions } from './tlv-map.js';
import type { XlateTunnels } from '../xlate/index.js';

const log = vlogModule('ofproto');

/** OFPPR_* reasons for PORT_STATUS. */
export const PORT_REASON = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

export interface OfprotoOptions {
  name: string;
  datapathId: bigint;
  rundir: string;
  /** Identification strings for DESC replies. */
  desc?: { mfr?: string; hw?: string; sw?: string; serial?: string; dp?: string };
  /** Runs a packet through the pipeline (src/xlate); set by whoever owns the datapath. */
  pipeline?: PacketPipeline;
}

/** How the switch hands packets to the pipeline: in from a port, or out from a PACKET_OUT. */
export interface PacketPipeline {
  receive(ofproto: Ofproto, inPort: number, frame: Uint8Array): void;
  packetOut(ofproto: Ofproto, inPort: number, frame: Uint8Array, actions: readonly TextAction[], metadata: Match): void;
  /** A port went away: forget what was learned about it. */
  portRemoved?(ofproto: Ofproto, ofport: number): void;
  /** A port joined the switch; true when the pipeline reads the device itself (no per-frame receive handler then). */
  portAdded?(ofproto: Ofproto, ofport: number, netdev: Netdev): boolean;
  /** Datapath limits from Open_vSwitch other_config (flow-limit, max-idle in ms). */
  /** Datapath settings from Open_vSwitch other_config; pmdWorkers null means the datapath's default. */
  configure?(opts: { flowLimit: number; maxIdleMs: number; pmdWorkers?: number | null }): void;
}

/** A rule change, for flow monitors and the datapath's revalidation. */
export type RuleEvent = {
  event: 'added' | 'modified' | 'removed'; rule: Rule; reason?: number; conn?: OfConn; xid?: number;
  /** For 'modified': the actions and cookie before the change. */
  oldActions?: readonly TextAction[]; oldCookie?: bigint;
};

export class Ofproto implements OfprotoHooks {
  readonly name: string;
  datapathId: bigint;
  readonly tables: OfTable[] = [];
  readonly ports = new Map<number, OfPort>();
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  readonly connmgr: Connmgr;
  readonly bundles = new Bundles(this);
  readonly monitors = new FlowMonitors(this);
  /** The Geneve option mapping behind tun_metadata0-63 (NXT_TLV_TABLE_MOD), one per bridge as in OVS. */
  readonly tlvTable = new TlvTable();
  /** The switch's tunnel endpoints, shared by its bridges (set by the bridge layer). */
  tunnels: XlateTunnels | undefined;
  readonly desc: Required<NonNullable<OfprotoOptions['desc']>>;
  pipeline: PacketPipeline | null;
  /** Rules with a timeout: the expiry sweep looks only at these. */
  private readonly expirable = new Set<Rule>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private failMode: 'secure' | 'standalone' = 'standalone';
  private failOpen = false;
  private readonly ruleListeners = new Set<(e: RuleEvent) => void>();
  /** OFPC_FRAG_* handling set by SET_CONFIG (kept for GET_CONFIG). */
  fragHandling = 0;
  private tablesVersionValue = 0;
  /** Told each time tablesVersion moves (a datapath whose threads must hear of it before the next reply goes out). */
  onTablesChanged: (() => void) | null = null;

  /** Monotonic counter the datapath checks to know its caches may be stale. */
  get tablesVersion(): number {
    return this.tablesVersionValue;
  }

  set tablesVersion(v: number) {
    this.tablesVersionValue = v;
    this.onTablesChanged?.();
  }

  constructor(opts: OfprotoOptions) {
    this.name = opts.name;
    this.datapathId = opts.datapathId;
    this.pipeline = opts.pipeline ?? null;
    this.desc = {
      mfr: opts.desc?.mfr ?? 'tsw', hw: opts.desc?.hw ?? 'tsw userspace switch', sw: opts.desc?.sw ?? '0.1.0',
      serial: opts.desc?.serial ?? 'None', dp: opts.desc?.dp ?? 'None',
    };
    for (let i = 0; i < N_TABLES; i++) this.tables.push(new OfTable(i));
    this.groups = new GroupTable({
      isPortLive: (p) => this.ports.get(p)?.isLive() ?? false,
      onDeleted: (ids) => this.deleteFlowsForGroups(ids),
    });
    this.meters = new MeterTable();
    this.connmgr = new Connmgr({ bridge: opts.name, rundir: opts.rundir, hooks: this, datapathId: () => this.datapathId });
  }

  private started: Promise<void> | null = null;

  start(): Promise<void> {
    this.flushFlows();
    this.started ??= this.connmgr.start();
    return this.started;
  }

  /** Stops serving; waits for a start still in progress, so no socket outlives the switch. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.monitors.close();
    if (this.started) await this.started.catch(() => undefined);
    await this.connmgr.close();
  }

  // ------------------------------------------------------------ hooks from connmgr

  handleMessage(conn: OfConn, msg: OfMessage, raw: Uint8Array): void {
    handleMessage(this, conn, msg, raw);
    // Monitors hear about a flow_mod's changes in one reply, right after it (OVS's ofmonitor_flush).
    this.monitors.flush();
  }

  connectionClosed(conn: OfConn): void {
    this.bundles.discardAll(conn);
    this.monitors.connectionClosed(conn);
  }

  failOpenChanged(active: boolean): void {
    if (active !== this.failOpen) log.info(`${this.name}: fail-open ${active ? 'engaged' : 'withdrawn'}`);
    this.failOpen = active;
    this.tablesVersion++;
  }

  /** Fail-open: no controller reachable in standalone mode, so the bridge switches on its own (NORMAL). */
  isFailOpen(): boolean {
    return this.failOpen;
  }

  // ------------------------------------------------------------ configuration from the bridge

  setControllers(list: ControllerConfig[], failMode: 'secure' | 'standalone'): void {
    const had = this.connmgr.hasControllers();
    const modeChanged = failMode !== this.failMode;
    this.failMode = failMode;
    this.connmgr.setFailMode(failMode);
    this.connmgr.setControllers(list);
    if (had !== this.connmgr.hasControllers() || modeChanged) this.flushFlows();
  }

  setTableConfig(configs: ReadonlyMap<number, TableConfig>): void {
    for (const t of this.tables) t.configure(configs.get(t.id));
  }

  /**
   * Removes every flow; then, with no controller and fail_mode standalone,
   * installs the one flow that makes the bridge a plain switch (as OVS does).
   */
  flushFlows(): void {
    for (const t of this.tables) {
      for (const r of [...t.cls]) this.removeRule(r, null);
    }
    if (!this.connmgr.hasControllers() && this.failMode === 'standalone') {
      const { value, mask } = matchToKeyMask({});
      this.insertRule(new Rule(0, 0, value, mask, 0n, [{ type: 'output', port: 0xfffa, max_len: 0 }], 0, 0, 0, 0, nowMs()), null);
    }
  }

  // ------------------------------------------------------------ ports

  addPort(ofport: number, name: string, netdev: Netdev): OfPort {
    const port = new OfPort(ofport, name, netdev);
    this.ports.set(ofport, port);
    const polled = this.pipeline?.portAdded?.(this, ofport, netdev) ?? false;
    if (!polled) netdev.setReceiveHandler((frame) => this.pipeline?.receive(this, ofport, frame));
    this.sendPortStatus(port, PORT_REASON.ADD);
    this.tablesVersion++;
    return port;
  }

  removePort(ofport: number): void {
    const port = this.ports.get(ofport);
    if (!port) return;
    this.ports.delete(ofport);
    port.netdev.setReceiveHandler(null);
    this.pipeline?.portRemoved?.(this, ofport);
    this.sendPortStatus(port, PORT_REASON.DELETE);
    this.tablesVersion++;
  }

  /** The port's netdev changed (admin state, carrier, MAC): tell the controllers. */
  portChanged(ofport: number): void {
    const port = this.ports.get(ofport);
    if (!port) return;
    // OFPPC_PORT_DOWN follows the device's admin state (`ip link set up` on a bridge's local port, say), as in OVS.
    const down = port.netdev.isAdminUp() ? 0 : PC.PORT_DOWN;
    if ((port.config & PC.PORT_DOWN) !== down) {
      port.config = (port.config & ~PC.PORT_DOWN) | down;
      this.tablesVersion++;
    }
    this.sendPortStatus(port, PORT_REASON.MODIFY);
  }

  portByName(name: string): OfPort | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return undefined;
  }

  sendPortStatus(port: OfPort, reason: number): void {
    this.connmgr.sendAsync('PORT_STATUS', reason, (conn) => ({
      version: conn.version, xid: 0, kind: 'PORT_STATUS', body: { reason, desc: port.describe(conn.version, port32) },
    }) as OfMessage);
  }

  /** PORT_MOD: config bits under mask; hw_addr must be the port's. */
  modPort(portNo: number, hwAddr: string, config: number, mask: number): void {
    const port = this.ports.get(portNo);
    if (!port) throw new OfError('OFPPMFC_BAD_PORT', `no port ${portNo}`);
    if (hwAddr.toLowerCase() !== port.hwAddr) throw new OfError('OFPPMFC_BAD_HW_ADDR', `port ${portNo} has address ${port.hwAddr}`);
    const before = port.config;
    port.config = (port.config & ~mask) | (config & mask);
    if (port.config !== before) {
      if ((before ^ port.config) & PC.PORT_DOWN) port.netdev.setAdminUp(!(port.config & PC.PORT_DOWN));
      this.tablesVersion++;
      this.sendPortStatus(port, PORT_REASON.MODIFY);
    }
  }

  // ------------------------------------------------------------ rules

  onRuleEvent(listener: (e: RuleEvent) => void): () => void {
    this.ruleListeners.add(listener);
    return () => this.ruleListeners.delete(listener);
  }

  private emit(e: RuleEvent): void {
    this.tablesVersion++;
    if (this.monitors.active) this.monitors.report(e);
    for (const l of this.ruleListeners) l(e);
  }

  /** Checks what a rule's actions refer to: groups, meters, tables and ports that must exist or be valid. */
  checkActions(actions: readonly TextAction[], tableId: number): void {
    for (const a of actions) {
      switch (a.type) {
        case 'group':
          if (!this.groups.get(a.group)) throw new OfError('OFPBAC_BAD_OUT_GROUP', `group ${a.group} does not exist`);
          break;
        case 'meter':
          if (!this.meters.get(a.meter)) throw new OfError('OFPMMFC_INVALID_METER', `meter ${a.meter} does not exist`);
          break;
        case 'goto_table':
          if (a.table <= tableId || a.table >= N_TABLES) throw new OfError('OFPBIC_BAD_TABLE_ID', `goto_table:${a.table} from table ${tableId}`);
          break;
        case 'output':
          if (a.port > 0xffff || (a.port >= 0xff00 && a.port < 0xfff8)) throw new OfError('OFPBAC_BAD_OUT_PORT', `output to port ${a.port}`);
          break;
        case 'write_actions': case 'clone':
          this.checkActions(a.actions, tableId);
          break;
        default: break;
      }
    }
  }

  /** A live rule's actions become `actions`: its TLV-table refs follow (its match's fields stay). */
  private retuneTlvRefs(r: Rule, actions: readonly TextAction[]): void {
    const bits = tunMetadataPresentMap(r.mask) | tlvBitsOfActions(actions);
    if (bits === r.tlvBits) return;
    this.tlvTable.refBits(bits, 1);
    this.tlvTable.refBits(r.tlvBits, -1);
    r.tlvBits = bits;
  }

  private insertRule(rule: Rule, conn: OfConn | null, xid = 0): void {
    const table = this.tables[rule.tableId]!;
    this.tlvTable.refBits(rule.tlvBits, 1);
    table.cls.insert(rule);
    this.groups.ruleRefs(rule.actions, 1);
    this.meters.ruleRefs(rule.actions, 1);
    if (rule.idleTimeout || rule.hardTimeout) {
      this.expirable.add(rule);
      this.scheduleSweep();
    }
    this.emit({ event: 'added', rule, ...(conn ? { conn, xid } : {}) });
  }

  /** Takes a rule out of its table; `reason` null means silently (replaced or flushed). */
  removeRule(rule: Rule, reason: number | null, conn: OfConn | null = null, xid = 0): void {
    if (rule.removed) return;
    this.tables[rule.tableId]!.cls.remove(rule);
    rule.removed = true;
    this.tlvTable.refBits(rule.tlvBits, -1);
    this.groups.ruleRefs(rule.actions, -1);
    this.meters.ruleRefs(rule.actions, -1);
    this.expirable.delete(rule);
    if (reason !== null && rule.sendFlowRemoved) {
      const now = nowMs();
      this.connmgr.sendAsync('FLOW_REMOVED', reason, (c) => rule.removedMessage(c.version, reason, now, c.flowFormat === 'nxm'));
    }
    this.emit({ event: 'removed', rule, ...(reason !== null ? { reason } : {}), ...(conn ? { conn, xid } : {}) });
  }

  /** Executes one decoded flow_mod. */
  flowMod(fm: OfFlowMod, conn: OfConn | null = null, xid = 0): void {
    switch (fm.command) {
      case 'add': this.addFlow(fm, conn, xid); break;
      case 'modify': case 'modify_strict': this.modifyFlows(fm, conn, xid); break;
      case 'delete': case 'delete_strict': this.deleteFlows(fm, conn, xid); break;
    }
    if (fm.bufferId !== NO_BUFFER && fm.command !== 'delete' && fm.command !== 'delete_strict') {
      throw new OfError('OFPBRC_BUFFER_UNKNOWN', `buffer ${fm.bufferId}: the switch buffers no packets`);
    }
  }

  /** Adds a flow written in ovs-ofctl syntax (the learn action's flows). */
  learnFlow(flowText: string): void {
    const flow = parseFlow(flowText, 'add');
    this.flowMod({
      command: 'add', match: canonicalMatch(flow.match), priority: flow.priority, tableId: flow.table === TABLE_ALL ? 0 : flow.table,
      cookie: 0n, cookieMask: 0n, newCookie: flow.cookie, idleTimeout: flow.idle_timeout, hardTimeout: flow.hard_timeout,
      importance: flow.importance, flags: 0, bufferId: NO_BUFFER, outPort: 0xffff, outGroup: GROUP_ANY, actions: flow.actions, version: 6,
    });
  }

  /** Validates a flow_mod against the switch without changing anything (bundles prepare this way). */
  checkFlowMod(fm: OfFlowMod): void {
    matchToKeyMask(fm.match, this.tlvTable);
    if (fm.command === 'add' || fm.command === 'modify' || fm.command === 'modify_strict') {
      this.checkActions(bindTunMetadataActions(fm.actions, this.tlvTable), fm.tableId === TABLE_ALL ? 0 : fm.tableId);
    }
  }

  private addFlow(fm: OfFlowMod, conn: OfConn | null, xid: number): void {
    const tableId = fm.tableId === TABLE_ALL ? 0 : fm.tableId;
    const table = this.tables[tableId]!;
    const key = matchToKeyMask(fm.match, this.tlvTable);
    const actions = bindTunMetadataActions(fm.actions, this.tlvTable);
    this.checkActions(actions, tableId);
    const value = key.value;
    // Rules with the same mask share one array (a flow key is ~470 bytes).
    const mask = table.cls.internMask(key.mask);
    if (fm.flags & FF.CHECK_OVERLAP) {
      for (const other of table.cls.overlapping(value, mask, fm.priority)) {
        void other;
        throw new OfError('OFPFMFC_OVERLAP', 'an existing flow overlaps');
      }
    }
    const old = table.cls.findExact(value, mask, fm.priority);
    if (!old && table.count >= table.maxFlows) {
      const victim = table.evict ? table.evictionVictim() : null;
      if (!victim) throw new OfError('OFPFMFC_TABLE_FULL', `table ${tableId} holds ${table.count} flows`);
      this.removeRule(victim, REMOVED_REASON.EVICTION);
    }
    const now = nowMs();
    const cookie = fm.newCookie === COOKIE_KEEP ? 0n : fm.newCookie;
    const rule = new Rule(tableId, fm.priority, value, mask, cookie, actions,
      fm.idleTimeout, fm.hardTimeout, fm.importance, fm.flags, now);
    const tunMatch = tunMetadataPresentMap(mask);
    if (tunMatch) rule.tunMetadata = this.tlvTable;
    rule.tlvBits = tunMatch | tlvBitsOfActions(actions);
    if (old) {
      if (!(fm.flags & FF.RESET_COUNTS)) {
        rule.packets = old.packets;
        rule.bytes = old.bytes;
      }
      this.removeRule(old, null);
    }
    this.insertRule(rule, conn, xid);
  }

  /** Rules a modify or delete selects: strict or loose match, table, cookie under its mask. */
  private selectRules(fm: OfFlowMod | FlowStatsQuery & { priority?: number; command?: string }, strict: boolean): Rule[] {
    const { value, mask } = matchToKeyMask(fm.match, this.tlvTable);
    const out: Rule[] = [];
    const tables = fm.tableId === TABLE_ALL ? this.tables : [this.tables[fm.tableId]!];
    const cookieOk = (r: Rule) => (r.cookie & fm.cookieMask) === (fm.cookie & fm.cookieMask);
    for (const t of tables) {
      if (strict) {
        const r = t.cls.findExact(value, mask, (fm as OfFlowMod).priority);
        if (r && cookieOk(r)) out.push(r);
      } else {
        for (const r of t.cls.iterLoose(value, mask)) if (cookieOk(r)) out.push(r);
      }
    }
    return out;
  }

  private modifyFlows(fm: OfFlowMod, conn: OfConn | null, xid: number): void {
    const rules = this.selectRules(fm, fm.command === 'modify_strict');
    if (rules.length === 0) {
      if (fm.cookieMask === 0n && fm.newCookie !== COOKIE_KEEP) this.addFlow({ ...fm, command: 'add' }, conn, xid);
      return;
    }
    const actions = bindTunMetadataActions(fm.actions, this.tlvTable);
    for (const r of rules) this.checkActions(actions, r.tableId);
    const now = nowMs();
    for (const r of rules) {
      const oldActions = r.actions;
      const oldCookie = r.cookie;
      this.groups.ruleRefs(r.actions, -1);
      this.meters.ruleRefs(r.actions, -1);
      this.retuneTlvRefs(r, actions);
      r.actions = actions;
      this.groups.ruleRefs(r.actions, 1);
      this.meters.ruleRefs(r.actions, 1);
      if (fm.newCookie !== COOKIE_KEEP) r.cookie = fm.newCookie;
      if (fm.flags & FF.RESET_COUNTS) {
        r.packets = 0;
        r.bytes = 0;
      }
      r.modified = now;
      this.emit({ event: 'modified', rule: r, oldActions, oldCookie, ...(conn ? { conn, xid } : {}) });
    }
  }

  private deleteFlows(fm: OfFlowMod, conn: OfConn | null, xid: number): void {
    const rules = this.selectRules(fm, fm.command === 'delete_strict')
      .filter((r) => actionsOutputTo(r.actions, fm.outPort) && actionsOutputToGroup(r.actions, fm.outGroup))
      // OVS walks its classifier's subtables by priority, so removals (and their notifications) come highest first.
      .sort((a, b) => a.tableId - b.tableId || b.priority - a.priority);
    for (const r of rules) this.removeRule(r, REMOVED_REASON.DELETE, conn, xid);
  }

  private deleteFlowsForGroups(ids: number[]): void {
    for (const t of this.tables) {
      for (const r of [...t.cls]) {
        if (ids.some((id) => actionsOutputToGroup(r.actions, id))) this.removeRule(r, REMOVED_REASON.GROUP_DELETE);
      }
    }
  }

  /** Removes flows using deleted meters. */
  deleteFlowsForMeters(ids: number[]): void {
    const uses = (list: readonly TextAction[]): boolean => list.some((a) => (a.type === 'meter' && ids.includes(a.meter)));
    for (const t of this.tables) {
      for (const r of [...t.cls]) if (uses(r.actions)) this.removeRule(r, REMOVED_REASON.METER_DELETE);
    }
  }

  /** Puts the flow tables back as a snapshot recorded them (a failed atomic bundle). */
  restoreRules(state: ReadonlyArray<{ r: Rule; cookie: bigint; actions: readonly TextAction[]; packets: number; bytes: number; modified: number }>): void {
    const keep = new Set(state.map((s) => s.r));
    for (const t of this.tables) for (const r of [...t.cls]) if (!keep.has(r)) this.removeRule(r, null);
    for (const s of state) {
      const r = s.r;
      r.cookie = s.cookie;
      if (!r.removed && r.actions !== s.actions) {
        this.retuneTlvRefs(r, s.actions);
        this.groups.ruleRefs(r.actions, -1);
        this.meters.ruleRefs(r.actions, -1);
        this.groups.ruleRefs(s.actions, 1);
        this.meters.ruleRefs(s.actions, 1);
      }
      if (r.removed) r.tlvBits = tunMetadataPresentMap(r.mask) | tlvBitsOfActions(s.actions);
      r.actions = s.actions;
      r.packets = s.packets;
      r.bytes = s.bytes;
      r.modified = s.modified;
      if (r.removed) {
        r.removed = false;
        this.insertRule(r, null);
      }
    }
  }

  /** Rules a flow-stats or aggregate request selects, in reply order. */
  queryRules(q: FlowStatsQuery): Rule[] {
    const sel = this.selectRules(q, false)
      .filter((r) => actionsOutputTo(r.actions, q.outPort) && actionsOutputToGroup(r.actions, q.outGroup));
    return sel.sort((a, b) => a.tableId - b.tableId || b.priority - a.priority || a.created - b.created);
  }

  // ------------------------------------------------------------ timeouts

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      this.expireRules();
      if (this.expirable.size) this.scheduleSweep();
    }, 250);
    this.sweepTimer.unref();
  }

  /** Removes every rule whose idle or hard timeout has passed. */
  expireRules(now = nowMs()): number {
    let n = 0;
    for (const r of [...this.expirable]) {
      const e = r.expiry();
      if (e && e.at <= now) {
        this.removeRule(r, e.reason);
        n++;
      }
    }
    return n;
  }

  /** Counts a packet against a rule (the pipeline calls this). */
  static creditRule(rule: Rule, bytes: number, now: number): void {
    rule.packets++;
    rule.bytes += bytes;
    rule.used = now;
  }

  totalRules(): number {
    let n = 0;
    for (const t of this.tables) n += t.count;
    return n;
  }
}

/** The switch's 16-bit port number in OF1.1+ numbering. */
export function port32(p: number): number {
  return port10To11(p) >>> 0;
}

/** The canonical form of a rule's match: what its key and mask say, as OVS prints a rule. */
export { GROUP_ANY, OFPP_LOCAL };

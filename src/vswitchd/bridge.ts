// Bridge reconciliation (OVS's bridge_reconfigure): read the wanted bridges,
// ports and interfaces from the database replica, bring the running ones in
// line in the seeds' order, and write the results back (ofport, error, link
// facts, datapath_id, cur_cfg) in one transaction. Every step compares wanted
// with actual state, so running it twice changes nothing the second time.
//
// Each bridge is an OpenFlow switch (src/ofproto); its OpenFlow settings are
// applied by bridge-ofproto.ts.
import type { Datum, Idl, IdlOptions, IdlRow, IdlTxn } from '../db/index.js';
import { makeDatum } from '../db/index.js';
import { vlogModule } from '../lib/vlog.js';
import type { Netdev, NetdevRegistry } from '../netdev/index.js';
import { NetdevError, PatchNetdev, TunnelNetdev, formatMac, parseMac } from '../netdev/index.js';
import type { Coverage } from '../lib/index.js';
import { Ofproto, type PacketPipeline } from '../ofproto/index.js';
import { configureOfproto, writeControllerStatus } from './bridge-ofproto.js';
import { VLAN_CONFIG_COLUMNS, configureVlans, writeMirrorStats } from './bridge-vlan.js';
import { OFPP_LOCAL, OfportAllocator, validOfport } from './ofport.js';
import { tunnelEncap, tunnelEndpoints, type TunnelPortRef, type UnderlayPort } from './tunnel-endpoints.js';

const log = vlogModule('bridge');

/** Columns the switch reads: a change to any of them means reconfigure. */
const CONFIG_COLUMNS: Record<string, string[]> = {
  Open_vSwitch: ['bridges', 'next_cfg', 'other_config', 'ssl'],
  SSL: ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert'],
  Bridge: ['name', 'datapath_type', 'ports', 'controller', 'other_config', 'fail_mode', 'protocols', 'flow_tables'],
  Port: ['name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'mac', 'other_config'],
  Interface: ['name', 'type', 'options', 'ofport_request', 'mtu_request', 'other_config'],
  Controller: ['target', 'max_backoff', 'inactivity_probe', 'connection_mode', 'controller_rate_limit', 'controller_burst_limit'],
  Flow_Table: ['name', 'flow_limit', 'overflow_policy', 'groups'],
  Mirror: [...VLAN_CONFIG_COLUMNS.Mirror!],
};
for (const t of ['Bridge', 'Port']) {
  for (const c of VLAN_CONFIG_COLUMNS[t]!) if (!CONFIG_COLUMNS[t]!.includes(c)) CONFIG_COLUMNS[t]!.push(c);
}

/** Columns the switch writes (OVS's omit_alert columns): monitored, so writes send only differences. */
const STATUS_COLUMNS: Record<string, string[]> = {
  Open_vSwitch: ['cur_cfg', 'datapath_types', 'iface_types'],
  Bridge: ['datapath_id'],
  Port: [],
  Interface: ['ofport', 'error', 'admin_state', 'link_state', 'link_resets', 'link_speed', 'duplex', 'mac_in_use',
    'mtu', 'ifindex', 'statistics', 'status'],
  Controller: ['is_connected', 'role', 'status'],
  Flow_Table: [],
  SSL: [],
  Mirror: ['statistics'],
};

/** What the switch's IDL monitors. */
export function switchTableSelection(): Record<string, string[]> & NonNullable<IdlOptions['tables']> {
  const sel: Record<string, string[]> = {};
  for (const t of Object.keys(CONFIG_COLUMNS)) sel[t] = [...CONFIG_COLUMNS[t]!, ...STATUS_COLUMNS[t]!];
  return sel;
}

// ------------------------------------------------------------ datum helpers

function str(row: IdlRow, col: string): string {
  const v = row.get(col).keys[0];
  return typeof v === 'string' ? v : '';
}

function optInt(row: IdlRow, col: string): number | undefined {
  const v = row.get(col).keys[0];
  return typeof v === 'number' ? v : undefined;
}

function uuids(row: IdlRow, col: string): string[] {
  return row.get(col).keys.filter((k): k is string => typeof k === 'string');
}

function smap(row: IdlRow, col: string): Map<string, string> {
  const d = row.get(col);
  const out = new Map<string, string>();
  d.keys.forEach((k, i) => out.set(String(k), String(d.values?.[i] ?? '')));
  return out;
}

const EMPTY: Datum = { keys: [], values: null };
const one = (v: string | number | boolean): Datum => ({ keys: [v], values: null });

/** Normalized datapath type: "" means "system". */
function normalizeDatapathType(t: string): string {
  return t === '' ? 'system' : t;
}

/**
 * The netdev type an interface is opened as (OVS asks the datapath class,
 * dpif port_open_type). Until tsw has datapaths, a local ("internal") port is
 * a dummy-internal device whenever the dummy classes are registered.
 */
function portOpenType(registry: NetdevRegistry, ifaceType: string): string {
  const t = ifaceType === '' ? 'system' : ifaceType;
  if (t === 'internal' && registry.lookup('dummy-internal') && !registry.lookup('internal')) return 'dummy-internal';
  return t;
}

/** The bridge MAC OVS derives from a row uuid: its first six bytes as C lays the uuid out, marked local unicast. */
export function macFromUuid(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  const w0 = parseInt(hex.slice(0, 8), 16);
  const w1 = parseInt(hex.slice(8, 16), 16);
  // struct uuid is four host-order (little-endian) 32-bit words.
  const b = Uint8Array.of(w0 & 0xff, (w0 >>> 8) & 0xff, (w0 >>> 16) & 0xff, w0 >>> 24, w1 & 0xff, (w1 >>> 8) & 0xff);
  b[0] = (b[0]! & ~1) | 2;
  return b;
}

/** other_config:datapath-id as OVS accepts it (16 hex digits, or 0x + up to 16); null if absent, bad or zero. */
export function parseDatapathId(s: string | undefined): bigint | null {
  if (s === undefined) return null;
  let v: bigint;
  if (/^[0-9a-fA-F]{16}$/.test(s)) v = BigInt(`0x${s}`);
  else if (/^0[xX][0-9a-fA-F]{1,16}$/.test(s)) v = BigInt(s);
  else return null;
  return v === 0n ? null : v;
}

function macToBigint(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

const isMulticast = (b: Uint8Array): boolean => (b[0]! & 1) !== 0;
const isLocal = (b: Uint8Array): boolean => (b[0]! & 2) !== 0;
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
/** 01:80:c2:00:00:0x, the IEEE 802.1D reserved range. */
const isReserved = (b: Uint8Array): boolean =>
  b[0] === 0x01 && b[1] === 0x80 && b[2] === 0xc2 && b[3] === 0 && b[4] === 0 && (b[5]! & 0xf0) === 0;

function compareMac(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

// ------------------------------------------------------------ running state

/** An interface's wanted configuration (a DB row, or the synthesized local interface). */
interface IfaceCfg {
  /** Interface row uuid; null for the synthesized local interface. */
  uuid: string | null;
  name: string;
  type: string;
  options: Map<string, string>;
  ofportRequest: number | null;
  /** The ofport the database already holds (kept across restarts, as OVS does). */
  dbOfport: number | null;
  mtuRequest: number | null;
}

interface PortCfg {
  uuid: string | null;
  name: string;
  mac: string | null;
  ifaces: IfaceCfg[];
}

interface Iface {
  name: string;
  port: Port;
  ofport: number;
  netdev: Netdev;
  /** Type the netdev was opened as. */
  netdevType: string;
  cfg: IfaceCfg;
}

interface Port {
  name: string;
  bridge: Bridge;
  ifaces: Iface[];
  cfg: PortCfg;
}

interface Bridge {
  name: string;
  uuid: string;
  datapathType: string;
  defaultEa: Uint8Array;
  ports: Map<string, Port>;
  ifaces: Map<string, Iface>;
  ofports: OfportAllocator;
  /** Written back as Bridge.datapath_id. */
  datapathId: bigint | null;
  wantedPorts: Map<string, PortCfg>;
  ofproto: Ofproto;
}

export interface SwitchOptions {
  idl: Idl;
  registry: NetdevRegistry;
  coverage: Coverage;
  /** Datapath types to advertise in Open_vSwitch.datapath_types. */
  datapathTypes: string[];
  /** Where <bridge>.mgmt and <bridge>.snoop go. */
  rundir: string;
  /** Runs packets through a bridge's OpenFlow pipeline (src/xlate). */
  pipeline?: PacketPipeline;
  /** Software version for OpenFlow DESC replies. */
  version?: string;
}

export interface ReconfigureResult {
  /** Whether anything was (re)applied; false when the configuration was unchanged. */
  ran: boolean;
  status: string;
}

/**
 * The switch's bridges and the loop that keeps them in step with the
 * database. All database writes go through one queue, so a status update
 * never races a reconfiguration.
 */
export class Switch {
  private readonly idl: Idl;
  private readonly registry: NetdevRegistry;
  private readonly coverage: Coverage;
  private readonly datapathTypes: string[];
  private readonly rundir: string;
  private readonly pipeline: PacketPipeline | undefined;
  private readonly version: string;
  private readonly bridges = new Map<string, Bridge>();
  /** Interface name -> the bridge holding it: a device can be on one bridge only. */
  private readonly ifaceOwner = new Map<string, Bridge>();
  private lastConfig: string | null = null;
  private writes: Promise<unknown> = Promise.resolve();
  private statusPending: Promise<void> | null = null;

  constructor(opts: SwitchOptions) {
    this.idl = opts.idl;
    this.registry = opts.registry;
    this.coverage = opts.coverage;
    this.datapathTypes = [...opts.datapathTypes].sort();
    this.rundir = opts.rundir;
    this.pipeline = opts.pipeline;
    this.version = opts.version ?? '0.0.0';
    for (const c of ['bridge_reconfigure', 'netdev_open', 'netdev_open_failed', 'iface_status_update', 'iface_stats_refresh']) {
      this.coverage.define(c);
    }
  }

  /** Bridge names, sorted. */
  bridgeNames(): string[] {
    return [...this.bridges.keys()].sort();
  }

  /** Number of interfaces across all bridges. */
  ifaceCount(): number {
    let n = 0;
    for (const br of this.bridges.values()) n += br.ifaces.size;
    return n;
  }

  /** The OpenFlow switch of a bridge (unixctl commands). */
  ofproto(name: string): Ofproto | undefined {
    return this.bridges.get(name)?.ofproto;
  }

  /** Every bridge's OpenFlow switch, by bridge name. */
  ofprotos(): Map<string, Ofproto> {
    return new Map([...this.bridges.values()].map((b) => [b.name, b.ofproto]));
  }

  /** For tests and unixctl: bridge -> (interface -> ofport). */
  ofports(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const br of this.bridges.values()) out.set(br.name, new Map([...br.ifaces.values()].map((i) => [i.name, i.ofport])));
    return out;
  }

  /**
   * Runs a reconfiguration if the configuration columns changed since the
   * last successful one (or `force`), and commits the results. Queued behind
   * any write in flight.
   */
  reconfigure(force = false): Promise<ReconfigureResult> {
    return this.enqueue(async () => {
      if (!this.idl.isConnected || !this.idl.hasLock) return { ran: false, status: 'not ready' };
      const digest = this.configDigest();
      if (!force && digest === this.lastConfig) return { ran: false, status: 'unchanged config' };
      this.coverage.inc('bridge_reconfigure');
      const txn = this.idl.txn();
      this.apply(txn);
      const r = await txn.commit();
      if (r.status === 'success' || r.status === 'unchanged') {
        this.lastConfig = digest;
      } else {
        this.lastConfig = null;
        log.warn(`database transaction failed (${r.status === 'error' ? `${r.error}${r.details ? `: ${r.details}` : ''}` : r.status}), will retry`);
      }
      return { ran: true, status: r.status };
    });
  }

  /** Writes link/admin/MAC/MTU facts of every interface whose netdev changed (netdev change events call this). */
  refreshStatus(): Promise<void> {
    if (this.statusPending) return this.statusPending;
    const p = this.enqueue(async () => {
      this.statusPending = null;
      if (!this.idl.isConnected || !this.idl.hasLock) return;
      const txn = this.idl.txn();
      for (const br of this.bridges.values()) for (const iface of br.ifaces.values()) this.writeIfaceStatus(txn, iface);
      const r = await txn.commit();
      if (r.status === 'success') this.coverage.inc('iface_status_update');
    });
    this.statusPending = p;
    return p;
  }

  /** Writes Controller connection facts that changed; `full` also refreshes the status maps. */
  refreshControllers(full = false): Promise<void> {
    return this.enqueue(async () => {
      if (!this.idl.isConnected || !this.idl.hasLock) return;
      const txn = this.idl.txn();
      let wrote = false;
      for (const br of this.bridges.values()) {
        const row = this.idl.row('Bridge', br.uuid);
        if (row && writeControllerStatus(this.idl, row, br.ofproto, txn, full)) wrote = true;
      }
      if (wrote) await txn.commit();
    });
  }

  /** Writes every interface's counters (OVS does this about every 5 seconds). */
  refreshStats(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.idl.isConnected || !this.idl.hasLock) return;
      const txn = this.idl.txn();
      for (const br of this.bridges.values()) {
        for (const iface of br.ifaces.values()) this.writeIfaceStats(txn, iface);
        const row = this.idl.row('Bridge', br.uuid);
        if (row) writeControllerStatus(this.idl, row, br.ofproto, txn, true);
        writeMirrorStats(this.idl, br.ofproto, txn);
      }
      this.coverage.inc('iface_stats_refresh');
      await txn.commit();
    });
  }

  /** Every tunnel port of the switch, with its bridge and port number. */
  private *tunnelPorts(): Iterable<TunnelPortRef> {
    for (const br of this.bridges.values()) {
      for (const iface of br.ifaces.values()) if (iface.netdev instanceof TunnelNetdev) yield { dev: iface.netdev, bridge: br.ofproto, ofport: iface.ofport };
    }
  }

  /** The switch's tunnel endpoints (OVS's tnl-ports map), consulted by every bridge's translation. */
  private readonly tunnelEndpoints = tunnelEndpoints(() => this.tunnelPorts());

  /** A bridge's local port by device name (where a tunnel's underlay route may leave). */
  private localPort(name: string): UnderlayPort | undefined {
    const owner = this.ifaceOwner.get(name);
    const iface = owner?.ifaces.get(name);
    return owner && iface && iface.ofport === OFPP_LOCAL ? { ofproto: owner.ofproto, mac: iface.netdev.getMac() } : undefined;
  }

  /** Where a patch port's cable ends: the port named by its peer option, if that is a patch port naming it back. */
  private patchPeerOf(dev: PatchNetdev): { bridge: Ofproto; ofport: number } | undefined {
    if (!dev.peer) return undefined;
    const br = this.ifaceOwner.get(dev.peer);
    const iface = br?.ifaces.get(dev.peer);
    if (!br || !iface || !(iface.netdev instanceof PatchNetdev) || iface.netdev.peer !== dev.name) return undefined;
    return { bridge: br.ofproto, ofport: iface.ofport };
  }

  /** Closes every netdev (exit). */
  destroyAll(): void {
    for (const br of [...this.bridges.values()]) this.destroyBridge(br);
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.writes.then(fn, fn);
    this.writes = p.catch(() => undefined);
    return p;
  }

  /** The configuration columns of every replicated row, as one string: equal means nothing to do. */
  private configDigest(): string {
    const parts: unknown[] = [];
    for (const [table, cols] of Object.entries(CONFIG_COLUMNS)) {
      const rows = [...this.idl.table(table).values()].sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
      for (const row of rows) parts.push(row.uuid, cols.map((c) => row.get(c)));
    }
    return JSON.stringify(parts);
  }

  // ------------------------------------------------------- reconfiguration

  private apply(txn: IdlTxn): void {
    const ovs = [...this.idl.table('Open_vSwitch').values()][0] ?? null;
    if (ovs && this.pipeline?.configure) {
      // The datapath's limits (OVS's udpif flow limit and max-idle), from Open_vSwitch other_config.
      const other = smap(ovs, 'other_config');
      const int = (k: string, dflt: number): number => (/^\d+$/.test(other.get(k) ?? '') ? Number(other.get(k)) : dflt);
      this.pipeline.configure({
        flowLimit: int('flow-limit', 200_000), maxIdleMs: int('max-idle', 10_000), pmdWorkers: pmdWorkersOf(other.get('pmd-cpu-mask')),
      });
    }
    this.addDelBridges(ovs);
    for (const br of this.bridges.values()) {
      const cfg = this.idl.row('Bridge', br.uuid)!;
      br.wantedPorts = this.collectWantedPorts(br, cfg);
      this.delPorts(br);
    }
    for (const br of this.bridges.values()) this.deleteOrReconfigurePorts(br);
    for (const br of this.bridges.values()) {
      // Interfaces that ask for a port number go first, so automatic numbers cannot take theirs.
      this.addPorts(br, txn, true);
      this.addPorts(br, txn, false);
    }
    for (const br of this.bridges.values()) {
      const brRow = this.idl.row('Bridge', br.uuid)!;
      this.configureDatapathId(br, brRow, txn);
      br.ofproto.datapathId = br.datapathId ?? 0n;
      configureOfproto(this.idl, brRow, br.ofproto);
      configureVlans(this.idl, brRow, br.ofproto, [...br.ports.values()].map((p) => ({ uuid: p.cfg.uuid, name: p.name, ofports: p.ifaces.map((i) => i.ofport) })));
      for (const port of br.ports.values()) {
        for (const iface of port.ifaces) {
          const row = iface.cfg.uuid ? this.idl.row('Interface', iface.cfg.uuid) : undefined;
          if (!row) continue;
          const w = txn.update(row);
          w.set('ofport', one(iface.ofport));
          w.set('error', EMPTY);
          this.writeIfaceStatus(txn, iface);
        }
      }
    }
    if (ovs) {
      const w = txn.update(ovs);
      const next = ovs.get('next_cfg');
      w.set('cur_cfg', next.keys.length ? next : one(0));
      w.set('datapath_types', makeDatum(this.datapathTypes));
      w.set('iface_types', makeDatum(this.registry.types()));
    }
  }

  private addDelBridges(ovs: IdlRow | null): void {
    const wanted = new Map<string, IdlRow>();
    for (const uuid of ovs ? uuids(ovs, 'bridges') : []) {
      const row = this.idl.row('Bridge', uuid);
      if (!row) continue;
      const name = str(row, 'name');
      if (name.includes('/') || name.includes('\\')) {
        // A name becomes socket and file names (<rundir>/<br>.mgmt): refuse path tricks like "../../etc".
        log.warn(`ignoring bridge with invalid name "${name}"`);
      } else if (wanted.has(name)) {
        log.warn(`bridge ${name} specified twice`);
      } else {
        wanted.set(name, row);
      }
    }
    for (const br of [...this.bridges.values()]) {
      const row = wanted.get(br.name);
      if (!row || row.uuid !== br.uuid || normalizeDatapathType(str(row, 'datapath_type')) !== br.datapathType) {
        this.destroyBridge(br);
      }
    }
    for (const [name, row] of wanted) {
      if (this.bridges.has(name)) continue;
      const ofproto = new Ofproto({
        name, datapathId: 0n, rundir: this.rundir, ...(this.pipeline ? { pipeline: this.pipeline } : {}),
        desc: { sw: this.version, dp: smap(row, 'other_config').get('dp-desc') ?? 'None' },
      });
      ofproto.tunnels = this.tunnelEndpoints;
      ofproto.start().catch((e: unknown) => log.err(`bridge ${name}: ${e instanceof Error ? e.message : String(e)}`));
      this.bridges.set(name, {
        ofproto,
        name,
        uuid: row.uuid,
        datapathType: normalizeDatapathType(str(row, 'datapath_type')),
        defaultEa: macFromUuid(row.uuid),
        ports: new Map(),
        ifaces: new Map(),
        ofports: new OfportAllocator(),
        datapathId: null,
        wantedPorts: new Map(),
      });
      log.info(`bridge ${name}: created`);
    }
  }

  private collectWantedPorts(br: Bridge, cfg: IdlRow): Map<string, PortCfg> {
    const wanted = new Map<string, PortCfg>();
    const portRows = uuids(cfg, 'ports').map((u) => this.idl.row('Port', u)).filter((r): r is IdlRow => r !== undefined);
    // Port names sorted: a stable order for automatic port numbers when several ports arrive at once.
    portRows.sort((a, b) => (str(a, 'name') < str(b, 'name') ? -1 : str(a, 'name') > str(b, 'name') ? 1 : 0));
    for (const prow of portRows) {
      const name = str(prow, 'name');
      if (wanted.has(name)) {
        log.warn(`bridge ${br.name}: ${name} specified twice as bridge port`);
        continue;
      }
      const ifaces: IfaceCfg[] = [];
      for (const u of uuids(prow, 'interfaces')) {
        const irow = this.idl.row('Interface', u);
        if (!irow) continue;
        ifaces.push({
          uuid: irow.uuid,
          name: str(irow, 'name'),
          type: str(irow, 'type'),
          options: smap(irow, 'options'),
          ofportRequest: validOfport(optInt(irow, 'ofport_request')),
          dbOfport: validOfport(optInt(irow, 'ofport')),
          mtuRequest: optInt(irow, 'mtu_request') ?? null,
        });
      }
      const mac = prow.get('mac').keys[0];
      wanted.set(name, { uuid: prow.uuid, name, mac: typeof mac === 'string' ? mac : null, ifaces });
    }
    // With controllers, the bridge needs its local port even if the database has none.
    if (cfg.get('controller').keys.length > 0 && !wanted.has(br.name)) {
      log.warn(`bridge ${br.name}: no port named ${br.name}, synthesizing one`);
      wanted.set(br.name, {
        uuid: null, name: br.name, mac: null,
        ifaces: [{ uuid: null, name: br.name, type: 'internal', options: new Map(), ofportRequest: null, dbOfport: null, mtuRequest: null }],
      });
    }
    return wanted;
  }

  /** Drops ports no longer wanted and interfaces no longer in their port; refreshes the cfg of the rest. */
  private delPorts(br: Bridge): void {
    for (const port of [...br.ports.values()]) {
      const cfg = br.wantedPorts.get(port.name);
      if (!cfg) {
        for (const iface of [...port.ifaces]) this.destroyIface(iface);
        br.ports.delete(port.name);
        continue;
      }
      port.cfg = cfg;
      const keep = new Map(cfg.ifaces.filter((i) => i.type !== 'null').map((i) => [i.name, i]));
      for (const iface of [...port.ifaces]) {
        const icfg = keep.get(iface.name);
        if (icfg) iface.cfg = icfg;
        else this.destroyIface(iface);
      }
    }
  }

  /** Removes interfaces of the wrong type, bad options or a port number that should change (to add them back). */
  private deleteOrReconfigurePorts(br: Bridge): void {
    for (const iface of [...br.ifaces.values()]) {
      if (portOpenType(this.registry, iface.cfg.type) !== iface.netdevType) {
        this.destroyIface(iface);
        continue;
      }
      try {
        iface.netdev.setConfig(iface.cfg.options);
      } catch {
        this.destroyIface(iface);
        continue;
      }
      this.setMtu(iface.netdev, iface.cfg);
      const req = iface.cfg.ofportRequest;
      if (iface.ofport !== OFPP_LOCAL && req !== null && req !== iface.ofport) {
        const victim = [...br.ifaces.values()].find((i) => i.ofport === req);
        if (victim && victim.cfg.ofportRequest === req) continue;   // both want it: leave things as they are
        if (victim) this.destroyIface(victim);
        this.destroyIface(iface);
      }
    }
  }

  private addPorts(br: Bridge, txn: IdlTxn, withRequest: boolean): void {
    for (const pcfg of br.wantedPorts.values()) {
      for (const icfg of pcfg.ifaces) {
        if (icfg.type === 'null' || (icfg.ofportRequest !== null) !== withRequest) continue;
        if (br.ifaces.has(icfg.name)) continue;
        const error = this.createIface(br, pcfg, icfg);
        if (error !== null) this.clearIfaceRecord(txn, icfg, error);
      }
    }
  }

  /** Opens and numbers one interface; returns the Interface.error text on failure, null on success. */
  private createIface(br: Bridge, pcfg: PortCfg, icfg: IfaceCfg): string | null {
    const type = portOpenType(this.registry, icfg.type);
    let netdev: Netdev;
    try {
      this.coverage.inc('netdev_open');
      netdev = this.registry.open(icfg.name, type);
    } catch (e) {
      this.coverage.inc('netdev_open_failed');
      const msg = `could not open network device ${icfg.name} (${e instanceof NetdevError ? e.message : String(e)})`;
      log.warn(msg);
      return msg;
    }
    const fail = (msg: string): string => {
      log.warn(msg);
      this.registry.close(netdev);
      return msg;
    };
    try {
      netdev.setConfig(icfg.options);
    } catch (e) {
      // As OVS: the class's own explanation when it gives one ("p: patch type requires ..."), else netdev_set_config's.
      const msg = e instanceof Error ? e.message : String(e);
      return fail(msg.startsWith(`${icfg.name}: `) ? msg : `${icfg.name}: could not set configuration (${msg})`);
    }
    this.setMtu(netdev, icfg);
    const owner = this.ifaceOwner.get(icfg.name);
    if (owner && owner !== br) {
      return fail(`could not add network device ${icfg.name} to ofproto (File exists)`);
    }
    let ofport: number | null;
    if (icfg.name === br.name) {
      ofport = OFPP_LOCAL;
    } else {
      ofport = br.ofports.alloc(icfg.ofportRequest ?? icfg.dbOfport);
      if (ofport === null) {
        log.warn(`${br.name}: failed to allocate ofp port number for ${icfg.name}.`);
        return fail(`could not add network device ${icfg.name} to ofproto (No space left on device)`);
      }
    }
    let port = br.ports.get(pcfg.name);
    if (!port) {
      port = { name: pcfg.name, bridge: br, ifaces: [], cfg: pcfg };
      br.ports.set(pcfg.name, port);
    }
    const iface: Iface = { name: icfg.name, port, ofport, netdev, netdevType: type, cfg: icfg };
    port.ifaces.push(iface);
    br.ifaces.set(icfg.name, iface);
    this.ifaceOwner.set(icfg.name, br);
    const ofPort = br.ofproto.addPort(ofport, icfg.name, netdev);
    if (netdev instanceof PatchNetdev) ofPort.patchPeer = () => this.patchPeerOf(netdev);
    if (netdev instanceof TunnelNetdev) ofPort.tunnel = (flow) => tunnelEncap(netdev, flow, (name) => this.localPort(name));
    netdev.on('change', () => {
      br.ofproto.portChanged(iface.ofport);
      void this.refreshStatus();
    });
    log.info(`bridge ${br.name}: added interface ${icfg.name} on port ${ofport}`);
    return null;
  }

  private setMtu(netdev: Netdev, icfg: IfaceCfg): void {
    if (icfg.mtuRequest === null || icfg.mtuRequest === netdev.getMtu()) return;
    try {
      netdev.setMtu(icfg.mtuRequest);
    } catch (e) {
      log.warn(`${icfg.name}: could not set MTU ${icfg.mtuRequest} (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  /** What OVS leaves in a row whose interface could not be created: the error, ofport -1, no link facts. */
  private clearIfaceRecord(txn: IdlTxn, icfg: IfaceCfg, error: string): void {
    const row = icfg.uuid ? this.idl.row('Interface', icfg.uuid) : undefined;
    if (!row) return;
    const w = txn.update(row);
    w.set('ofport', one(-1));
    w.set('error', one(error));
    for (const c of ['status', 'admin_state', 'duplex', 'link_speed', 'link_state', 'mac_in_use', 'mtu', 'statistics', 'ifindex']) {
      w.set(c, EMPTY);
    }
  }

  private destroyIface(iface: Iface): void {
    const br = iface.port.bridge;
    br.ifaces.delete(iface.name);
    if (this.ifaceOwner.get(iface.name) === br) this.ifaceOwner.delete(iface.name);
    iface.port.ifaces = iface.port.ifaces.filter((i) => i !== iface);
    if (iface.port.ifaces.length === 0) br.ports.delete(iface.port.name);
    if (iface.ofport !== OFPP_LOCAL) br.ofports.release(iface.ofport);
    br.ofproto.removePort(iface.ofport);
    iface.netdev.removeAllListeners('change');
    this.registry.close(iface.netdev);
    log.info(`bridge ${br.name}: deleted interface ${iface.name} on port ${iface.ofport}`);
  }

  private destroyBridge(br: Bridge): void {
    for (const iface of [...br.ifaces.values()]) this.destroyIface(iface);
    this.bridges.delete(br.name);
    br.ofproto.close().catch((e: unknown) => log.err(`bridge ${br.name}: ${e instanceof Error ? e.message : String(e)}`));
    log.info(`bridge ${br.name}: deleted`);
  }

  // ------------------------------------------------------------ write-back

  /** The bridge MAC (other_config:hwaddr, else the lowest global MAC of its ports, else from its uuid) and datapath ID. */
  private configureDatapathId(br: Bridge, cfg: IdlRow, txn: IdlTxn): void {
    const other = smap(cfg, 'other_config');
    let ea: Uint8Array | null = null;
    const hw = other.get('hwaddr');
    const requested = hw === undefined ? null : parseMac(hw);
    if (requested) {
      if (isMulticast(requested)) log.err(`bridge ${br.name}: cannot set MAC address to multicast address ${formatMac(requested)}`);
      else if (isZero(requested)) log.err(`bridge ${br.name}: cannot set MAC address to zero`);
      else ea = requested;
    }
    if (!ea) {
      for (const port of br.ports.values()) {
        let cand: Uint8Array | null = null;
        const portMac = port.cfg.mac === null ? null : parseMac(port.cfg.mac);
        if (portMac) {
          cand = portMac;
        } else {
          // The first interface by name speaks for the port, as a Linux bond takes its first member's MAC.
          const first = [...port.ifaces].sort((a, b) => (a.name < b.name ? -1 : 1))[0];
          if (!first || first.ofport === OFPP_LOCAL || first.netdevType === 'internal' || first.netdevType === 'dummy-internal') continue;
          cand = parseMac(first.netdev.getMac());
        }
        if (cand && !isMulticast(cand) && !isLocal(cand) && !isReserved(cand) && !isZero(cand)
          && (!ea || compareMac(cand, ea) < 0)) {
          ea = cand;
        }
      }
    }
    ea ??= br.defaultEa;
    const local = [...br.ifaces.values()].find((i) => i.ofport === OFPP_LOCAL);
    if (local) {
      try {
        local.netdev.setMac(formatMac(ea));
      } catch (e) {
        log.err(`bridge ${br.name}: failed to set bridge Ethernet address (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    const dpid = parseDatapathId(other.get('datapath-id')) ?? macToBigint(ea);
    if (dpid !== br.datapathId) {
      log.info(`bridge ${br.name}: using datapath ID ${dpid.toString(16).padStart(16, '0')}`);
      br.datapathId = dpid;
    }
    txn.update(cfg).set('datapath_id', one(dpid.toString(16).padStart(16, '0')));
  }

  private writeIfaceStatus(txn: IdlTxn, iface: Iface): void {
    const row = iface.cfg.uuid ? this.idl.row('Interface', iface.cfg.uuid) : undefined;
    if (!row) return;
    const n = iface.netdev;
    const w = txn.update(row);
    const status = n.getStatus();
    const keys = Object.keys(status);
    w.set('status', makeDatum(keys, keys.map((k) => status[k]!)));
    w.set('admin_state', one(n.isAdminUp() ? 'up' : 'down'));
    w.set('link_state', one(n.isLinkUp() ? 'up' : 'down'));
    w.set('link_resets', one(n.linkResets()));
    const speed = n.getLinkSpeed();
    w.set('link_speed', speed ? one(speed.bps) : EMPTY);
    w.set('duplex', speed ? one(speed.fullDuplex ? 'full' : 'half') : EMPTY);
    w.set('mtu', one(n.getMtu()));
    w.set('mac_in_use', one(n.getMac()));
    w.set('ifindex', one(n.getIfindex() ?? 0));
    if (row.get('statistics').keys.length === 0) this.writeIfaceStats(txn, iface);
  }

  private writeIfaceStats(txn: IdlTxn, iface: Iface): void {
    const row = iface.cfg.uuid ? this.idl.row('Interface', iface.cfg.uuid) : undefined;
    if (!row) return;
    const stats = iface.netdev.getStats() as unknown as Record<string, number | undefined>;
    const keys = Object.keys(stats).filter((k) => stats[k] !== undefined);
    txn.update(row).set('statistics', makeDatum(keys, keys.map((k) => stats[k]!)));
  }
}

/**
 * other_config:pmd-cpu-mask as a PMD worker count: one worker per set bit of
 * the hex mask (tsw does not pin threads to those cores); null (the
 * datapath's default) when absent, malformed or zero, as OVS falls back to
 * its default then.
 */
export function pmdWorkersOf(mask: string | undefined): number | null {
  const hex = mask?.trim().replace(/^0x/i, '');
  if (!hex || !/^[0-9a-f]+$/i.test(hex)) return null;
  let n = 0;
  for (const c of hex) n += [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4][parseInt(c, 16)]!;
  return n || null;
}

// ovs-vsctl's view of the switch: the bridge/port/interface tree built from
// the IDL replica, with VLAN "fake" bridges under their parents, and the
// lookups and edits the bridge and port commands make through it.
import type { Atom } from '../../db/index.js';
import type { IdlRow } from '../../db/index.js';
import type { DbContext } from './context.js';
import type { ZoneEdits } from './dpcmds.js';
import { VsctlError } from './values.js';

export interface VBridge {
  cfg: IdlRow | null;
  name: string;
  ports: VPort[];
  children: Map<number, VBridge>;
  parent: VBridge | null;
  vlan: number;
}

export interface VPort {
  cfg: IdlRow;
  ifaces: VIface[];
  bridge: VBridge;
}

export interface VIface {
  cfg: IdlRow;
  port: VPort;
}

export interface Cache {
  bridges: Map<string, VBridge>;
  ports: Map<string, VPort>;
  ifaces: Map<string, VIface>;
}

/** State shared by the commands of one invocation (ovs-vsctl's vsctl_context). */
export class VsctlState {
  ovs: IdlRow;
  cache: Cache | null = null;
  verifiedPorts = false;
  /** Interfaces inserted by this invocation, checked after ovs-vswitchd reconfigures. */
  readonly newIfaces: string[] = [];
  /** ct_zones edits per Datapath uuid (see dpcmds.ts). */
  readonly zoneEdits = new Map<string, ZoneEdits>();

  constructor(
    readonly db: DbContext,
    ovs: IdlRow,
    private readonly warn: (msg: string) => void,
  ) {
    this.ovs = ovs;
  }

  str(row: IdlRow, col: string): string {
    const d = this.db.get(row, col);
    return d.keys.length ? (d.keys[0] as string) : '';
  }

  refs(row: IdlRow, col: string): string[] {
    return this.db.get(row, col).keys as string[];
  }

  rowsOf(table: string, row: IdlRow, col: string): IdlRow[] {
    const out: IdlRow[] = [];
    for (const u of this.refs(row, col)) {
      const r = this.db.row(table, u);
      if (r) out.push(r);
    }
    return out;
  }

  setRefs(row: IdlRow, col: string, uuids: string[]): void {
    const keys = [...new Set(uuids)].sort() as Atom[];
    this.db.set(row, col, { keys, values: null });
  }

  invalidate(): void {
    this.cache = null;
  }

  private static tagOf(st: VsctlState, port: IdlRow): number | null {
    const d = st.db.get(port, 'tag');
    if (!d.keys.length) return null;
    const t = d.keys[0] as number;
    return t >= 0 && t <= 4095 ? t : null;
  }

  private static isFakeBridge(st: VsctlState, port: IdlRow): boolean {
    const fb = st.db.get(port, 'fake_bridge');
    return fb.keys[0] === true && VsctlState.tagOf(st, port) !== null;
  }

  populate(): Cache {
    if (this.cache) return this.cache;
    const cache: Cache = { bridges: new Map(), ports: new Map(), ifaces: new Map() };
    const bridgeRows = this.rowsOf('Bridge', this.ovs, 'bridges');
    const addBridge = (cfg: IdlRow | null, name: string, parent: VBridge | null, vlan: number): VBridge => {
      const br: VBridge = { cfg, name, ports: [], children: new Map(), parent, vlan };
      if (parent) {
        const conflict = parent.children.get(vlan);
        if (conflict) {
          this.warn(`${parent.name}: bridge has multiple VLAN bridges (${name} and ${conflict.name}) for VLAN ${vlan}, but only one is allowed`);
        } else parent.children.set(vlan, br);
      }
      cache.bridges.set(name, br);
      return br;
    };

    let names = new Set<string>();
    const portNames = new Set<string>();
    for (const brCfg of bridgeRows) {
      const brName = this.str(brCfg, 'name');
      if (names.has(brName)) {
        this.warn(`${brName}: database contains duplicate bridge name`);
        continue;
      }
      names.add(brName);
      const br = addBridge(brCfg, brName, null, 0);
      for (const portCfg of this.rowsOf('Port', brCfg, 'ports')) {
        const pName = this.str(portCfg, 'name');
        if (portNames.has(pName)) continue;
        portNames.add(pName);
        if (VsctlState.isFakeBridge(this, portCfg) && !names.has(pName)) {
          names.add(pName);
          addBridge(null, pName, br, VsctlState.tagOf(this, portCfg) as number);
        }
      }
    }

    names = new Set<string>();
    for (const brCfg of bridgeRows) {
      const brName = this.str(brCfg, 'name');
      if (names.has(brName)) continue;
      names.add(brName);
      const br = cache.bridges.get(brName) as VBridge;
      for (const portCfg of this.rowsOf('Port', brCfg, 'ports')) {
        const pName = this.str(portCfg, 'name');
        const existing = cache.ports.get(pName);
        if (existing) {
          if (existing.cfg.uuid === portCfg.uuid) {
            this.warn(`${pName}: port is in multiple bridges (${br.name} and ${existing.bridge.name})`);
          }
          continue;
        }
        if (VsctlState.isFakeBridge(this, portCfg)) {
          if (names.has(pName)) continue;
          names.add(pName);
        }
        const port = this.addPortToCache(cache, br, portCfg);
        for (const ifCfg of this.rowsOf('Interface', portCfg, 'interfaces')) {
          const iName = this.str(ifCfg, 'name');
          const ex = cache.ifaces.get(iName);
          if (ex) {
            if (ex.cfg.uuid === ifCfg.uuid) {
              this.warn(`${iName}: interface is in multiple ports (${this.str(ex.port.cfg, 'name')} and ${pName})`);
            }
            continue;
          }
          this.addIfaceToCache(cache, port, ifCfg);
        }
      }
    }
    this.cache = cache;
    return cache;
  }

  addPortToCache(cache: Cache, parent: VBridge, cfg: IdlRow): VPort {
    const tag = VsctlState.tagOf(this, cfg);
    if (tag !== null) parent = parent.children.get(tag) ?? parent;
    const port: VPort = { cfg, ifaces: [], bridge: parent };
    parent.ports.push(port);
    cache.ports.set(this.str(cfg, 'name'), port);
    return port;
  }

  addIfaceToCache(cache: Cache, port: VPort, cfg: IdlRow): VIface {
    const iface: VIface = { cfg, port };
    port.ifaces.push(iface);
    cache.ifaces.set(this.str(cfg, 'name'), iface);
    return iface;
  }

  verifyPorts(): void {
    if (this.verifiedPorts) return;
    this.db.verify(this.ovs, 'bridges');
    for (const br of this.db.rows('Bridge')) this.db.verify(br, 'ports');
    for (const p of this.db.rows('Port')) this.db.verify(p, 'interfaces');
    this.verifiedPorts = true;
  }

  checkConflicts(name: string, msg: string): void {
    const cache = this.populate();
    this.verifyPorts();
    if (cache.bridges.has(name)) throw new VsctlError(`${msg} because a bridge named ${name} already exists`);
    const port = cache.ports.get(name);
    if (port) throw new VsctlError(`${msg} because a port named ${name} already exists on bridge ${port.bridge.name}`);
    const iface = cache.ifaces.get(name);
    if (iface) throw new VsctlError(`${msg} because an interface named ${name} already exists on bridge ${iface.port.bridge.name}`);
  }

  findBridge(name: string, mustExist: boolean): VBridge | undefined {
    const br = this.populate().bridges.get(name);
    if (mustExist && !br) throw new VsctlError(`no bridge named ${name}`);
    this.db.verify(this.ovs, 'bridges');
    return br;
  }

  findRealBridge(name: string, mustExist: boolean): VBridge | undefined {
    const br = this.findBridge(name, mustExist);
    if (br?.parent) throw new VsctlError(`${name} is a fake bridge`);
    return br;
  }

  findPort(name: string, mustExist: boolean): VPort | undefined {
    let port = this.populate().ports.get(name);
    if (port && name === port.bridge.name) port = undefined;
    if (mustExist && !port) throw new VsctlError(`no port named ${name}`);
    this.verifyPorts();
    return port;
  }

  findIface(name: string, mustExist: boolean): VIface | undefined {
    let iface = this.populate().ifaces.get(name);
    if (iface && name === iface.port.bridge.name) iface = undefined;
    if (mustExist && !iface) throw new VsctlError(`no interface named ${name}`);
    this.verifyPorts();
    return iface;
  }

  bridgeInsertPort(br: IdlRow, port: IdlRow): void {
    this.setRefs(br, 'ports', [...this.refs(br, 'ports'), port.uuid]);
  }

  bridgeDeletePort(br: IdlRow, port: IdlRow): void {
    this.setRefs(br, 'ports', this.refs(br, 'ports').filter((u) => u !== port.uuid));
  }

  delPort(port: VPort): void {
    const cache = this.populate();
    const br = port.bridge.parent ? port.bridge.parent.cfg : port.bridge.cfg;
    this.bridgeDeletePort(br as IdlRow, port.cfg);
    for (const iface of [...port.ifaces]) this.delCachedIface(cache, iface);
    port.bridge.ports.splice(port.bridge.ports.indexOf(port), 1);
    cache.ports.delete(this.str(port.cfg, 'name'));
    this.db.delete(port.cfg);
  }

  delCachedIface(cache: Cache, iface: VIface): void {
    iface.port.ifaces.splice(iface.port.ifaces.indexOf(iface), 1);
    cache.ifaces.delete(this.str(iface.cfg, 'name'));
    this.db.delete(iface.cfg);
  }

  delBridge(br: VBridge): void {
    const cache = this.populate();
    for (const child of [...br.children.values()]) this.delBridge(child);
    for (const port of [...br.ports]) this.delPort(port);
    for (const fs of this.db.rows('Flow_Sample_Collector_Set')) {
      const b = this.db.get(fs, 'bridge');
      if (br.cfg && b.keys[0] === br.cfg.uuid) this.db.delete(fs);
    }
    if (br.parent) br.parent.children.delete(br.vlan);
    if (br.cfg) {
      this.db.delete(br.cfg);
      this.setRefs(this.ovs, 'bridges', this.refs(this.ovs, 'bridges').filter((u) => u !== br.cfg?.uuid));
    }
    cache.bridges.delete(br.name);
  }
}

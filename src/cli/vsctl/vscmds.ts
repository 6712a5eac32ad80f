// The Open vSwitch specific commands (bridges, ports, bonds, interfaces,
// controllers, managers, SSL, emer-reset, AutoAttach) over the bridge tree
// of bridge-tree.ts.
import type { Atom, Datum } from '../../db/index.js';
import type { IdlRow } from '../../db/index.js';
import type { CommandContext } from './context.js';
import { VsctlExit, getTable } from './context.js';
import { escapeArgs } from './cmdline.js';
import { setColumn } from './dbcmds.js';
import { DATAPATH_COMMANDS, sortUniquePairs } from './dpcmds.js';
import { VsctlError, compareAtoms } from './values.js';

import { VsctlState, type VBridge, type VPort, type VIface } from './bridge-tree.js';

function sortedLines(names: string[]): string {
  return names
    .sort((a, b) => compareAtoms('string', a, b))
    .map((n) => n + '\n')
    .join('');
}

function strDatum(s: string): Datum {
  return { keys: [s], values: null };
}

function cmdAddBr(st: VsctlState, ctx: CommandContext): void {
  const mayExist = ctx.options.has('--may-exist');
  const brName = ctx.argv[1];
  if (!brName) throw new VsctlError('bridge name must not be empty string');
  let parentName: string | null = null;
  let vlan = 0;
  if (ctx.argv.length === 4) {
    parentName = ctx.argv[2];
    vlan = atoi(ctx.argv[3]);
    if (vlan < 0 || vlan > 4095) throw new VsctlError(`${ctx.argv[0]}: vlan must be between 0 and 4095`);
  } else if (ctx.argv.length !== 2) {
    throw new VsctlError(`'${ctx.argv[0]}' command takes exactly 1 or 3 arguments`);
  }
  st.populate();
  if (mayExist) {
    const br = st.findBridge(brName, false);
    if (br) {
      if (parentName === null) {
        if (br.parent) throw new VsctlError(`"--may-exist add-br ${brName}" but ${brName} is a VLAN bridge for VLAN ${br.vlan}`);
      } else if (!br.parent) {
        throw new VsctlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} is not a VLAN bridge`);
      } else if (br.parent.name !== parentName) {
        throw new VsctlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} has the wrong parent ${br.parent.name}`);
      } else if (br.vlan !== vlan) {
        throw new VsctlError(`"--may-exist add-br ${brName} ${parentName} ${vlan}" but ${brName} is a VLAN bridge for the wrong VLAN ${br.vlan}`);
      }
      return;
    }
  }
  st.checkConflicts(brName, `cannot create a bridge named ${brName}`);
  const db = st.db;
  let iface;
  if (parentName === null) {
    iface = db.insert('Interface');
    db.set(iface, 'name', strDatum(brName));
    db.set(iface, 'type', strDatum('internal'));
    const port = db.insert('Port');
    db.set(port, 'name', strDatum(brName));
    db.set(port, 'interfaces', { keys: [iface.uuid], values: null });
    const br = db.insert('Bridge');
    db.set(br, 'name', strDatum(brName));
    db.set(br, 'ports', { keys: [port.uuid], values: null });
    st.setRefs(st.ovs, 'bridges', [...st.refs(st.ovs, 'bridges'), br.uuid]);
  } else {
    const parent = st.findBridge(parentName, false);
    if (parent?.parent) throw new VsctlError('cannot create bridge with fake bridge as parent');
    if (!parent) throw new VsctlError(`parent bridge ${parentName} does not exist`);
    const conflict = parent.children.get(vlan);
    if (conflict) throw new VsctlError(`bridge ${parentName} already has a child VLAN bridge ${conflict.name} on VLAN ${vlan}`);
    iface = db.insert('Interface');
    db.set(iface, 'name', strDatum(brName));
    db.set(iface, 'type', strDatum('internal'));
    const port = db.insert('Port');
    db.set(port, 'name', strDatum(brName));
    db.set(port, 'interfaces', { keys: [iface.uuid], values: null });
    db.set(port, 'fake_bridge', { keys: [true], values: null });
    db.set(port, 'tag', { keys: [vlan], values: null });
    st.bridgeInsertPort(parent.cfg as IdlRow, port);
  }
  st.newIfaces.push(iface.uuid);
  st.invalidate();
}

/** C's atoi: leading whitespace, optional sign, digits; anything else stops. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const v = Number(m[1]);
  return Math.trunc(((v % 4294967296) + 4294967296 + 2147483648) % 4294967296 - 2147483648);
}

function cmdDelBr(st: VsctlState, ctx: CommandContext): void {
  const br = st.findBridge(ctx.argv[1], !ctx.options.has('--if-exists'));
  if (br) st.delBridge(br);
}

function cmdListBr(st: VsctlState, ctx: CommandContext): void {
  let real = ctx.options.has('--real');
  let fake = ctx.options.has('--fake');
  if (!real && !fake) real = fake = true;
  const names = [...st.populate().bridges.values()].filter((b) => (b.parent ? fake : real)).map((b) => b.name);
  ctx.output += sortedLines(names);
}

function mapGet(d: Datum, key: string): string | undefined {
  const i = d.keys.indexOf(key);
  return i >= 0 ? ((d.values ?? [])[i] as string) : undefined;
}

function withKey(d: Datum, key: string, value: string | null): Datum {
  const pairs: [string, string][] = d.keys.map((k, i) => [k as string, (d.values ?? [])[i] as string]);
  const rest = pairs.filter(([k]) => k !== key);
  if (value !== null) rest.push([key, value]);
  rest.sort((a, b) => compareAtoms('string', a[0], b[0]));
  return { keys: rest.map((p) => p[0]), values: rest.map((p) => p[1]) };
}

function cmdBrSetExternalId(st: VsctlState, ctx: CommandContext): void {
  const br = st.findBridge(ctx.argv[1], true) as VBridge;
  const value = ctx.argv.length >= 4 ? ctx.argv[3] : null;
  if (br.cfg) {
    const d = withKey(st.db.get(br.cfg, 'external_ids'), ctx.argv[2], value);
    st.db.verify(br.cfg, 'external_ids');
    st.db.set(br.cfg, 'external_ids', d);
  } else {
    const port = st.populate().ports.get(ctx.argv[1]) as VPort;
    const d = withKey(st.db.get(port.cfg, 'external_ids'), `fake-bridge-${ctx.argv[2]}`, value);
    st.db.verify(port.cfg, 'external_ids');
    st.db.set(port.cfg, 'external_ids', d);
  }
}

function getExternalId(d: Datum, prefix: string, key: string | null): string {
  if (key !== null) {
    const v = mapGet(d, prefix + key);
    return v !== undefined ? v + '\n' : '';
  }
  let out = '';
  d.keys.forEach((k, i) => {
    const ks = k as string;
    if (ks.startsWith(prefix)) out += `${ks.slice(prefix.length)}=${(d.values ?? [])[i] as string}\n`;
  });
  return out;
}

function cmdBrGetExternalId(st: VsctlState, ctx: CommandContext): void {
  const br = st.findBridge(ctx.argv[1], true) as VBridge;
  const key = ctx.argv.length >= 3 ? ctx.argv[2] : null;
  if (br.cfg) {
    st.db.verify(br.cfg, 'external_ids');
    ctx.output += getExternalId(st.db.get(br.cfg, 'external_ids'), '', key);
  } else {
    const port = st.populate().ports.get(ctx.argv[1]) as VPort;
    st.db.verify(port.cfg, 'external_ids');
    ctx.output += getExternalId(st.db.get(port.cfg, 'external_ids'), 'fake-bridge-', key);
  }
}

function cmdListPorts(st: VsctlState, ctx: CommandContext): void {
  const br = st.findBridge(ctx.argv[1], true) as VBridge;
  st.db.verify((br.cfg ?? br.parent?.cfg) as IdlRow, 'ports');
  const names = br.ports.map((p) => st.str(p.cfg, 'name')).filter((n) => n !== br.name);
  ctx.output += sortedLines(names);
}

function addPort(
  st: VsctlState,
  ctx: CommandContext,
  brName: string,
  portName: string,
  mayExist: boolean,
  fakeIface: boolean,
  ifaceNames: string[],
  settings: string[],
): void {
  if (!portName) throw new VsctlError('port name must not be empty string');
  if (ifaceNames.some((n) => !n)) throw new VsctlError('interface name must not be empty string');
  const cache = st.populate();
  if (mayExist) {
    const port = st.findPort(portName, false);
    if (port) {
      const want = [...ifaceNames].sort((a, b) => compareAtoms('string', a, b));
      const have = st.rowsOf('Interface', port.cfg, 'interfaces').map((r) => st.str(r, 'name'));
      have.sort((a, b) => compareAtoms('string', a, b));
      const command = contextToString(ctx);
      if (port.bridge.name !== brName) {
        throw new VsctlError(`"${command}" but ${portName} is actually attached to bridge ${port.bridge.name}`);
      }
      if (want.join('\0') !== have.join('\0')) {
        throw new VsctlError(`"${command}" but ${portName} actually has interface(s) ${have.join(', ')}`);
      }
      return;
    }
  }
  st.checkConflicts(portName, `cannot create a port named ${portName}`);
  for (const n of ifaceNames) st.checkConflicts(n, `cannot create an interface named ${n}`);
  const bridge = st.findBridge(brName, true) as VBridge;
  const db = st.db;
  const ifaces = ifaceNames.map((n) => {
    const row = db.insert('Interface');
    db.set(row, 'name', strDatum(n));
    st.newIfaces.push(row.uuid);
    return row;
  });
  const port = db.insert('Port');
  db.set(port, 'name', strDatum(portName));
  db.set(port, 'interfaces', { keys: ifaces.map((r) => r.uuid).sort(), values: null });
  db.set(port, 'bond_fake_iface', { keys: [fakeIface], values: null });
  if (bridge.parent) db.set(port, 'tag', { keys: [bridge.vlan], values: null });
  const portTable = getTable(db.schema, 'Port');
  for (const s of settings) setColumn(ctx, portTable, port, s);
  st.bridgeInsertPort((bridge.parent ? bridge.parent.cfg : bridge.cfg) as IdlRow, port);
  const vport = st.addPortToCache(cache, bridge, port);
  for (const r of ifaces) st.addIfaceToCache(cache, vport, r);
}

/** vsctl_context_to_string: the command's options and arguments, shell-quoted. */
function contextToString(ctx: CommandContext): string {
  return escapeArgs([...ctx.options.keys(), ...ctx.argv]);
}

function cmdAddPort(st: VsctlState, ctx: CommandContext): void {
  addPort(st, ctx, ctx.argv[1], ctx.argv[2], ctx.options.has('--may-exist'), false, [ctx.argv[2]], ctx.argv.slice(3));
}

function cmdAddBond(st: VsctlState, ctx: CommandContext): void {
  let nIfaces = ctx.argv.length - 3;
  for (let i = 3; i < ctx.argv.length; i++) {
    if (ctx.argv[i].includes('=')) {
      nIfaces = i - 3;
      break;
    }
  }
  if (nIfaces < 2) throw new VsctlError(`add-bond requires at least 2 interfaces, but only ${nIfaces} were specified`);
  addPort(
    st, ctx, ctx.argv[1], ctx.argv[2], ctx.options.has('--may-exist'), ctx.options.has('--fake-iface'),
    ctx.argv.slice(3, 3 + nIfaces), ctx.argv.slice(3 + nIfaces),
  );
}

function cmdAddBondIface(st: VsctlState, ctx: CommandContext): void {
  const cache = st.populate();
  const port = st.findPort(ctx.argv[1], true) as VPort;
  const ifaceName = ctx.argv[2];
  if (ctx.options.has('--may-exist')) {
    const iface = st.findIface(ifaceName, false);
    if (iface) {
      if (iface.port === port) return;
      throw new VsctlError(`"${contextToString(ctx)}" but ${ifaceName} is actually attached to port ${st.str(iface.port.cfg, 'name')}`);
    }
  }
  st.checkConflicts(ifaceName, `cannot create an interface named ${ifaceName}`);
  const row = st.db.insert('Interface');
  st.db.set(row, 'name', strDatum(ifaceName));
  st.setRefs(port.cfg, 'interfaces', [...st.refs(port.cfg, 'interfaces'), row.uuid]);
  st.newIfaces.push(row.uuid);
  st.addIfaceToCache(cache, port, row);
}

function cmdDelBondIface(st: VsctlState, ctx: CommandContext): void {
  const cache = st.populate();
  const ifaceName = ctx.argv[ctx.argv.length - 1];
  const iface = st.findIface(ifaceName, !ctx.options.has('--if-exists'));
  if (!iface) return;
  if (ctx.argv.length > 2) {
    const port = st.findPort(ctx.argv[1], true);
    if (iface.port !== port) throw new VsctlError(`port ${ctx.argv[1]} does not have an interface ${ifaceName}`);
  }
  if (iface.port.ifaces.length <= 1) throw new VsctlError(`cannot delete last interface from port ${st.str(iface.port.cfg, 'name')}`);
  st.setRefs(iface.port.cfg, 'interfaces', st.refs(iface.port.cfg, 'interfaces').filter((u) => u !== iface.cfg.uuid));
  st.delCachedIface(cache, iface);
}

function cmdDelPort(st: VsctlState, ctx: CommandContext): void {
  const mustExist = !ctx.options.has('--if-exists');
  const withIface = ctx.options.has('--with-iface');
  const target = ctx.argv[ctx.argv.length - 1];
  st.populate();
  let port: VPort | undefined;
  if (st.findBridge(target, false)) {
    if (mustExist) {
      throw new VsctlError(
        `cannot delete port ${target} because it is the local port for bridge ${target} (deleting this port requires deleting the entire bridge)`,
      );
    }
  } else if (!withIface) {
    port = st.findPort(target, mustExist);
  } else {
    port = st.findPort(target, false);
    if (!port) port = st.findIface(target, false)?.port;
    if (mustExist && !port) throw new VsctlError(`no port or interface named ${target}`);
  }
  if (!port) return;
  if (ctx.argv.length === 3) {
    const bridge = st.findBridge(ctx.argv[1], true);
    if (port.bridge !== bridge) {
      if (port.bridge.parent === bridge) {
        throw new VsctlError(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]} (although its child bridge ${port.bridge.name} does)`);
      }
      throw new VsctlError(`bridge ${ctx.argv[1]} does not have a port ${ctx.argv[2]}`);
    }
  }
  st.delPort(port);
}

function cmdListIfaces(st: VsctlState, ctx: CommandContext): void {
  const br = st.findBridge(ctx.argv[1], true) as VBridge;
  st.verifyPorts();
  const names: string[] = [];
  for (const p of br.ports) for (const i of p.ifaces) {
    const n = st.str(i.cfg, 'name');
    if (n !== br.name) names.push(n);
  }
  ctx.output += sortedLines(names);
}

function verifyControllers(st: VsctlState, br: IdlRow): void {
  st.db.verify(br, 'controller');
  for (const c of st.rowsOf('Controller', br, 'controller')) st.db.verify(c, 'target');
}

function cmdGetController(st: VsctlState, ctx: CommandContext): void {
  let br = st.findBridge(ctx.argv[1], true) as VBridge;
  if (br.parent) br = br.parent;
  const cfg = br.cfg as IdlRow;
  verifyControllers(st, cfg);
  ctx.output += sortedLines(st.rowsOf('Controller', cfg, 'controller').map((c) => st.str(c, 'target')));
}

function cmdDelController(st: VsctlState, ctx: CommandContext): void {
  const br = (st.findRealBridge(ctx.argv[1], true) as VBridge).cfg as IdlRow;
  verifyControllers(st, br);
  const ctrls = st.rowsOf('Controller', br, 'controller');
  if (st.refs(br, 'controller').length) {
    for (const c of ctrls) st.db.delete(c);
    st.setRefs(br, 'controller', []);
  }
}

function inactivityProbe(ctx: CommandContext): Datum | null {
  const v = ctx.options.get('--inactivity-probe');
  if (v === undefined || v === null) return null;
  const m = /^\s*([+-]?\d+)/.exec(v);
  return { keys: [m ? Number(m[1]) : 0], values: null };
}

function cmdSetController(st: VsctlState, ctx: CommandContext): void {
  const br = (st.findRealBridge(ctx.argv[1], true) as VBridge).cfg as IdlRow;
  verifyControllers(st, br);
  for (const c of st.rowsOf('Controller', br, 'controller')) st.db.delete(c);
  const probe = inactivityProbe(ctx);
  const uuids = ctx.argv.slice(2).map((target) => {
    const row = st.db.insert('Controller');
    st.db.set(row, 'target', strDatum(target));
    if (probe) st.db.set(row, 'inactivity_probe', probe);
    return row.uuid;
  });
  st.setRefs(br, 'controller', uuids);
}

function cmdGetFailMode(st: VsctlState, ctx: CommandContext): void {
  let br = st.findBridge(ctx.argv[1], true) as VBridge;
  if (br.parent) br = br.parent;
  const cfg = br.cfg as IdlRow;
  st.db.verify(cfg, 'fail_mode');
  const mode = st.str(cfg, 'fail_mode');
  if (mode) ctx.output += mode + '\n';
}

function cmdDelFailMode(st: VsctlState, ctx: CommandContext): void {
  const br = st.findRealBridge(ctx.argv[1], true) as VBridge;
  st.db.set(br.cfg as IdlRow, 'fail_mode', { keys: [], values: null });
}

function cmdSetFailMode(st: VsctlState, ctx: CommandContext): void {
  const br = st.findRealBridge(ctx.argv[1], true) as VBridge;
  const mode = ctx.argv[2];
  if (mode !== 'standalone' && mode !== 'secure') throw new VsctlError('fail-mode must be "standalone" or "secure"');
  st.db.set(br.cfg as IdlRow, 'fail_mode', strDatum(mode));
}

function verifyManagers(st: VsctlState): void {
  st.db.verify(st.ovs, 'manager_options');
  for (const m of st.rowsOf('Manager', st.ovs, 'manager_options')) st.db.verify(m, 'target');
}

function cmdGetManager(st: VsctlState, ctx: CommandContext): void {
  verifyManagers(st);
  const targets = [...new Set(st.rowsOf('Manager', st.ovs, 'manager_options').map((m) => st.str(m, 'target')))];
  ctx.output += sortedLines(targets);
}

function deleteManagers(st: VsctlState): void {
  for (const m of st.rowsOf('Manager', st.ovs, 'manager_options')) st.db.delete(m);
  st.setRefs(st.ovs, 'manager_options', []);
}

function cmdSetManager(st: VsctlState, ctx: CommandContext): void {
  verifyManagers(st);
  deleteManagers(st);
  const probe = inactivityProbe(ctx);
  const uuids = ctx.argv.slice(1).map((target) => {
    const row = st.db.insert('Manager');
    st.db.set(row, 'target', strDatum(target));
    if (probe) st.db.set(row, 'inactivity_probe', probe);
    return row.uuid;
  });
  st.setRefs(st.ovs, 'manager_options', uuids);
}

function cmdGetSsl(st: VsctlState, ctx: CommandContext): void {
  st.db.verify(st.ovs, 'ssl');
  const ssl = st.rowsOf('SSL', st.ovs, 'ssl')[0];
  if (!ssl) return;
  for (const c of ['private_key', 'certificate', 'ca_cert', 'bootstrap_ca_cert']) st.db.verify(ssl, c);
  ctx.output += `Private key: ${st.str(ssl, 'private_key')}\n`;
  ctx.output += `Certificate: ${st.str(ssl, 'certificate')}\n`;
  ctx.output += `CA Certificate: ${st.str(ssl, 'ca_cert')}\n`;
  ctx.output += `Bootstrap: ${st.db.get(ssl, 'bootstrap_ca_cert').keys[0] === true ? 'true' : 'false'}\n`;
}

function cmdDelSsl(st: VsctlState): void {
  const ssl = st.rowsOf('SSL', st.ovs, 'ssl')[0];
  if (!ssl) return;
  st.db.verify(st.ovs, 'ssl');
  st.db.delete(ssl);
  st.db.set(st.ovs, 'ssl', { keys: [], values: null });
}

function cmdSetSsl(st: VsctlState, ctx: CommandContext): void {
  st.db.verify(st.ovs, 'ssl');
  const old = st.rowsOf('SSL', st.ovs, 'ssl')[0];
  if (old) st.db.delete(old);
  const ssl = st.db.insert('SSL');
  st.db.set(ssl, 'private_key', strDatum(ctx.argv[1]));
  st.db.set(ssl, 'certificate', strDatum(ctx.argv[2]));
  st.db.set(ssl, 'ca_cert', strDatum(ctx.argv[3]));
  st.db.set(ssl, 'bootstrap_ca_cert', { keys: [ctx.options.has('--bootstrap')], values: null });
  st.db.set(st.ovs, 'ssl', { keys: [ssl.uuid], values: null });
}

function cmdEmerReset(st: VsctlState): void {
  const db = st.db;
  const empty = (): Datum => ({ keys: [], values: null });
  db.set(st.ovs, 'manager_options', empty());
  db.set(st.ovs, 'ssl', empty());
  for (const br of db.rows('Bridge')) {
    for (const c of ['controller', 'fail_mode', 'mirrors', 'netflow', 'sflow', 'ipfix', 'flood_vlans']) db.set(br, c, empty());
    const hwaddr = mapGet(db.get(br, 'other_config'), 'hwaddr');
    db.set(br, 'other_config', hwaddr !== undefined ? { keys: ['hwaddr'], values: [hwaddr] } : { keys: [], values: [] });
  }
  for (const p of db.rows('Port')) db.set(p, 'other_config', { keys: [], values: [] });
  for (const i of db.rows('Interface')) {
    db.set(i, 'ingress_policing_rate', { keys: [0], values: null });
    db.set(i, 'ingress_policing_burst', { keys: [0], values: null });
  }
  for (const t of ['Mirror', 'Controller', 'Manager', 'NetFlow', 'SSL', 'sFlow', 'IPFIX', 'Flow_Sample_Collector_Set']) {
    for (const r of db.rows(t)) db.delete(r);
  }
  st.invalidate();
}

/**
 * An I-SID or VLAN argument, read as strtoull reads it (blanks, a sign,
 * decimal digits, trailing text ignored, saturating at 2^64-1) and then held
 * in an int64, so "-1" and anything too large both become -1.
 */
function parseAaNumber(arg: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(arg);
  if (!m) throw new VsctlError(`Invalid argument ${arg}`);
  let v = BigInt(m[2]);
  if (v >= 1n << 64n) v = (1n << 64n) - 1n;
  else if (m[1] === '-') v = -v;
  return Number(BigInt.asIntN(64, v));
}

/** The real bridge behind `name` (a VLAN bridge stands for its parent). */
function aaBridge(st: VsctlState, name: string): IdlRow {
  const br = st.findBridge(name, true) as VBridge;
  return (br.parent ?? br).cfg as IdlRow;
}

function mappingPairs(d: Datum): [Atom, Atom][] {
  return d.keys.map((k, i) => [k, (d.values ?? [])[i]]);
}

function cmdAddAaMapping(st: VsctlState, ctx: CommandContext): void {
  const isid = parseAaNumber(ctx.argv[2]);
  const vlan = parseAaNumber(ctx.argv[3]);
  const br = aaBridge(st, ctx.argv[1]);
  let aa = st.rowsOf('AutoAttach', br, 'auto_attach')[0];
  if (!aa) {
    aa = st.db.insert('AutoAttach');
    st.db.set(br, 'auto_attach', { keys: [aa.uuid], values: null });
  }
  // A repeated I-SID keeps its smallest VLAN, as OVS's sort-and-dedup of the map does.
  const pairs = mappingPairs(st.db.get(aa, 'mappings'));
  pairs.push([isid, vlan]);
  st.db.set(aa, 'mappings', sortUniquePairs(pairs, 'integer', 'integer'));
}

function cmdDelAaMapping(st: VsctlState, ctx: CommandContext): void {
  const isid = parseAaNumber(ctx.argv[2]);
  const vlan = parseAaNumber(ctx.argv[3]);
  const br = aaBridge(st, ctx.argv[1]);
  const aa = st.rowsOf('AutoAttach', br, 'auto_attach')[0];
  if (!aa) return;
  const pairs = mappingPairs(st.db.get(aa, 'mappings'));
  if (!pairs.some(([k, v]) => k === isid && v === vlan)) return;
  // ovs-vsctl drops every mapping that shares the I-SID or the VLAN, not just the pair.
  const kept = pairs.filter(([k, v]) => k !== isid && v !== vlan);
  st.db.set(aa, 'mappings', { keys: kept.map((p) => p[0]), values: kept.map((p) => p[1]) });
}

function cmdGetAaMapping(st: VsctlState, ctx: CommandContext): void {
  const br = aaBridge(st, ctx.argv[1]);
  st.db.verify(br, 'auto_attach');
  const aa = st.rowsOf('AutoAttach', br, 'auto_attach')[0];
  if (!aa) return;
  st.db.verify(aa, 'mappings');
  for (const [k, v] of mappingPairs(st.db.get(aa, 'mappings'))) ctx.output += `${k as number} ${v as number}\n`;
}

/** Runs an Open vSwitch command; returns false if `name` is not one. */
export function runVsctlCommand(st: VsctlState, ctx: CommandContext, name: string): boolean {
  const handlers: Record<string, (s: VsctlState, c: CommandContext) => void> = {
    init: () => undefined,
    'add-br': cmdAddBr,
    'del-br': cmdDelBr,
    'list-br': cmdListBr,
    'br-exists': (s, c) => {
      if (!s.findBridge(c.argv[1], false)) throw new VsctlExit(2);
    },
    'br-to-vlan': (s, c) => {
      c.output += `${(s.findBridge(c.argv[1], true) as VBridge).vlan}\n`;
    },
    'br-to-parent': (s, c) => {
      const br = s.findBridge(c.argv[1], true) as VBridge;
      c.output += `${(br.parent ?? br).name}\n`;
    },
    'br-set-external-id': cmdBrSetExternalId,
    'br-get-external-id': cmdBrGetExternalId,
    'list-ports': cmdListPorts,
    'add-port': cmdAddPort,
    'del-port': cmdDelPort,
    'port-to-br': (s, c) => {
      c.output += `${(s.findPort(c.argv[1], true) as VPort).bridge.name}\n`;
    },
    'add-bond': cmdAddBond,
    'add-bond-iface': cmdAddBondIface,
    'del-bond-iface': cmdDelBondIface,
    'list-ifaces': cmdListIfaces,
    'iface-to-br': (s, c) => {
      c.output += `${(s.findIface(c.argv[1], true) as VIface).port.bridge.name}\n`;
    },
    'get-controller': cmdGetController,
    'del-controller': cmdDelController,
    'set-controller': cmdSetController,
    'get-fail-mode': cmdGetFailMode,
    'del-fail-mode': cmdDelFailMode,
    'set-fail-mode': cmdSetFailMode,
    'get-manager': cmdGetManager,
    'del-manager': (s) => {
      verifyManagers(s);
      deleteManagers(s);
    },
    'set-manager': cmdSetManager,
    'get-ssl': cmdGetSsl,
    'del-ssl': cmdDelSsl,
    'set-ssl': cmdSetSsl,
    'emer-reset': cmdEmerReset,
    'add-aa-mapping': cmdAddAaMapping,
    'del-aa-mapping': cmdDelAaMapping,
    'get-aa-mapping': cmdGetAaMapping,
    ...DATAPATH_COMMANDS,
  };
  const h = handlers[name];
  if (!h) return false;
  h(st, ctx);
  return true;
}

// The NORMAL side of bridge reconfiguration (OVS's port_configure VLAN part
// and bridge_configure_mirrors): each Port row's tag, trunks, cvlans,
// vlan_mode and other_config (qinq-ethtype, priority-tags) onto its OpenFlow
// ports, and the bridge's Mirror rows onto its switch.

import type { Idl, IdlRow, IdlTxn } from '../db/index.js';
import { makeDatum } from '../db/index.js';
import { vlogModule } from '../lib/vlog.js';
import type { Ofproto } from '../ofproto/index.js';
import { MAX_MIRRORS, TRUNK_ALL, macTableOf, resolvePortVlan, setMirrors, type PortVlan, type XlateMirror } from '../xlate/index.js';

const log = vlogModule('bridge');

/** Columns this file reads, for the switch's IDL monitor. */
export const VLAN_CONFIG_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  Bridge: ['mirrors'],
  Port: ['tag', 'trunks', 'cvlans', 'vlan_mode', 'other_config'],
  Mirror: ['name', 'select_all', 'select_src_port', 'select_dst_port', 'select_vlan', 'output_port', 'output_vlan', 'snaplen'],
};

/** A bridge port as reconciliation knows it: its row (null for a synthesized local port) and its interfaces' ofports. */
export interface BridgePortRef {
  readonly uuid: string | null;
  readonly name: string;
  readonly ofports: readonly number[];
}

function ints(row: IdlRow, col: string): number[] {
  return row.get(col).keys.filter((k): k is number => typeof k === 'number');
}

function optInt(row: IdlRow, col: string): number | null {
  const v = row.get(col).keys[0];
  return typeof v === 'number' ? v : null;
}

function optStr(row: IdlRow, col: string): string {
  const v = row.get(col).keys[0];
  return typeof v === 'string' ? v : '';
}

function smapGet(row: IdlRow, col: string, key: string): string | undefined {
  const d = row.get(col);
  const i = d.keys.findIndex((k) => k === key);
  return i < 0 ? undefined : String(d.values?.[i] ?? '');
}

/** The VLAN settings of one Port row. */
export function portVlanOf(row: IdlRow, name: string): PortVlan {
  const has = (col: string) => {
    try {
      return row.get(col);
    } catch {
      return null;
    }
  };
  const { vlan, warnings } = resolvePortVlan(name, {
    tag: optInt(row, 'tag'),
    trunks: ints(row, 'trunks'),
    cvlans: has('cvlans') ? ints(row, 'cvlans') : [],
    vlanMode: optStr(row, 'vlan_mode'),
    qinqEthtype: smapGet(row, 'other_config', 'qinq-ethtype') ?? '',
    priorityTags: smapGet(row, 'other_config', 'priority-tags') ?? '',
  });
  for (const w of warnings) log.warn(w);
  return vlan;
}

function sameBitmap(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (!a || !b) return a === b;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameVlan(a: PortVlan, b: PortVlan): boolean {
  return a.mode === b.mode && a.tag === b.tag && a.qinqEthtype === b.qinqEthtype && a.priorityTags === b.priorityTags
    && sameBitmap(a.trunks, b.trunks) && sameBitmap(a.cvlans, b.cvlans);
}

/** Mirror objects by row uuid, per switch: kept across reconfigurations so their counters survive. */
const mirrorObjects = new WeakMap<Ofproto, Map<string, XlateMirror>>();

function mirrorOf(bridge: string, idl: Idl, row: IdlRow, byUuid: ReadonlyMap<string, BridgePortRef>, all: readonly BridgePortRef[], old: XlateMirror | undefined): XlateMirror | null {
  const name = optStr(row, 'name');
  const outUuid = row.get('output_port').keys[0];
  const outVlan = optInt(row, 'output_vlan');
  let outPort: number | null = null;
  if (typeof outUuid === 'string') {
    const out = byUuid.get(outUuid);
    if (!out?.ofports.length) {
      log.err(`bridge ${bridge}: mirror ${name} outputs to port not on bridge`);
      return null;
    }
    outPort = out.ofports[0]!;
    if (outVlan !== null) log.err(`bridge ${bridge}: mirror ${name} specifies both output port and output vlan; ignoring output vlan`);
  } else if (outVlan === null) {
    log.err(`bridge ${bridge}: mirror ${name} does not specify output; ignoring`);
    return null;
  }
  const collect = (col: string): Set<number> => {
    const s = new Set<number>();
    for (const u of row.get(col).keys) {
      const p = byUuid.get(String(u));
      if (p) {
        for (const n of p.ofports) s.add(n);
      } else {
        const prow = idl.row('Port', String(u));
        log.warn(`bridge ${bridge}: mirror ${name} cannot match on nonexistent port ${prow ? optStr(prow, 'name') : String(u)}`);
      }
    }
    return s;
  };
  let srcPorts: Set<number>;
  let dstPorts: Set<number>;
  if (row.get('select_all').keys[0] === true) {
    srcPorts = new Set(all.flatMap((p) => p.ofports));
    dstPorts = srcPorts;
  } else {
    srcPorts = collect('select_src_port');
    dstPorts = collect('select_dst_port');
  }
  const vlanList = ints(row, 'select_vlan').filter((v) => v >= 0 && v < 4096);
  const snaplen = optInt(row, 'snaplen');
  return {
    name, srcPorts, dstPorts, vlans: vlanList.length ? new Set(vlanList) : null,
    outPort, outVlan: outPort === null ? outVlan : null, ...(snaplen ? { snaplen } : {}),
    packets: old?.packets ?? 0, bytes: old?.bytes ?? 0,
  };
}

/** Applies the VLAN settings of a bridge's ports and its mirrors to its switch. */
export function configureVlans(idl: Idl, brRow: IdlRow, ofproto: Ofproto, ports: readonly BridgePortRef[]): void {
  const byUuid = new Map<string, BridgePortRef>();
  for (const p of ports) {
    if (p.uuid) byUuid.set(p.uuid, p);
    const row = p.uuid ? idl.row('Port', p.uuid) : undefined;
    const vlan = row ? portVlanOf(row, p.name) : TRUNK_ALL;
    for (const n of p.ofports) {
      const port = ofproto.ports.get(n);
      if (!port) continue;
      // What was learned on a port whose VLANs changed may be wrong now (OVS flushes the bundle's entries).
      if (port.vlan && !sameVlan(port.vlan, vlan)) macTableOf(ofproto as object as Parameters<typeof macTableOf>[0]).flushPort(n);
      // Cached translations decided by the old VLAN settings must go.
      if (!port.vlan || !sameVlan(port.vlan, vlan)) ofproto.tablesVersion++;
      port.vlan = vlan;
    }
  }
  const old = mirrorObjects.get(ofproto) ?? new Map<string, XlateMirror>();
  const now = new Map<string, XlateMirror>();
  let mirrorUuids: string[] = [];
  try {
    mirrorUuids = brRow.get('mirrors').keys.map(String);
  } catch {
    mirrorUuids = [];
  }
  for (const uuid of mirrorUuids) {
    const row = idl.row('Mirror', uuid);
    if (!row) continue;
    if (now.size >= MAX_MIRRORS) {
      log.warn(`maximum of ${MAX_MIRRORS} port mirrors reached, cannot create ${optStr(row, 'name')}`);
      break;
    }
    const m = mirrorOf(optStr(brRow, 'name'), idl, row, byUuid, ports, old.get(uuid));
    if (m) now.set(uuid, m);
  }
  mirrorObjects.set(ofproto, now);
  setMirrors(ofproto, [...now.values()]);
  if (now.size || old.size) ofproto.tablesVersion++;
}

/** Writes Mirror.statistics (tx_bytes, tx_packets) of a switch's mirrors where they changed (OVS's mirror_refresh_stats). */
export function writeMirrorStats(idl: Idl, ofproto: Ofproto, txn: IdlTxn): void {
  for (const [uuid, m] of mirrorObjects.get(ofproto) ?? []) {
    const row = idl.row('Mirror', uuid);
    if (!row) continue;
    const d = makeDatum(['tx_bytes', 'tx_packets'], [m.bytes, m.packets]);
    if (JSON.stringify(row.get('statistics')) !== JSON.stringify(d)) txn.update(row).set('statistics', d);
  }
}

// The OpenFlow side of bridge reconfiguration (OVS's bridge_configure_*):
// controllers, fail mode, allowed OpenFlow versions and Flow_Table settings
// from the database into a bridge's Ofproto, and controller status back.

import type { Datum, Idl, IdlRow, IdlTxn } from '../db/index.js';
import { makeDatum } from '../db/index.js';
import type { ControllerConfig, Ofproto, TableConfig } from '../ofproto/index.js';
import { MAC_DEFAULT_IDLE_TIME, MAC_DEFAULT_MAX, macTableOf } from '../xlate/index.js';

/** OpenFlow versions a Bridge.protocols name allows (bit = wire version). */
const PROTOCOL_BITS: Readonly<Record<string, number>> = {
  OpenFlow10: 1 << 1, OpenFlow11: 1 << 2, OpenFlow12: 1 << 3, OpenFlow13: 1 << 4, OpenFlow14: 1 << 5, OpenFlow15: 1 << 6,
};
/** What an empty Bridge.protocols means: OpenFlow 1.0 through 1.5. */
const DEFAULT_VERSIONS = 0x7e;

function strs(row: IdlRow, col: string): string[] {
  return row.get(col).keys.map(String);
}

function optNum(row: IdlRow, col: string): number | undefined {
  const v = row.get(col).keys[0];
  return typeof v === 'number' ? v : undefined;
}

function optStr(row: IdlRow, col: string): string | undefined {
  const v = row.get(col).keys[0];
  return typeof v === 'string' ? v : undefined;
}

/** The allowed-versions bitmap of a Bridge row. */
export function allowedVersions(row: IdlRow): number {
  let bits = 0;
  for (const p of strs(row, 'protocols')) bits |= PROTOCOL_BITS[p] ?? 0;
  return bits || DEFAULT_VERSIONS;
}

export function controllerConfigs(idl: Idl, row: IdlRow): ControllerConfig[] {
  const out: ControllerConfig[] = [];
  for (const uuid of row.get('controller').keys) {
    const c = idl.row('Controller', String(uuid));
    if (!c) continue;
    const mode = optStr(c, 'connection_mode');
    const cfg: ControllerConfig = { target: optStr(c, 'target') ?? '' };
    const maxBackoff = optNum(c, 'max_backoff');
    const probe = optNum(c, 'inactivity_probe');
    const rate = optNum(c, 'controller_rate_limit');
    const burst = optNum(c, 'controller_burst_limit');
    if (maxBackoff !== undefined) cfg.maxBackoff = maxBackoff;
    if (probe !== undefined) cfg.inactivityProbe = probe;
    if (mode === 'in-band' || mode === 'out-of-band') cfg.connectionMode = mode;
    if (rate !== undefined) cfg.rateLimit = rate;
    if (burst !== undefined) cfg.burstLimit = burst;
    out.push(cfg);
  }
  return out;
}

export function tableConfigs(idl: Idl, row: IdlRow): Map<number, TableConfig> {
  const out = new Map<number, TableConfig>();
  const d = row.get('flow_tables');
  d.keys.forEach((k, i) => {
    const ft = idl.row('Flow_Table', String(d.values?.[i] ?? ''));
    if (!ft || typeof k !== 'number') return;
    const cfg: TableConfig = { evict: optStr(ft, 'overflow_policy') === 'evict', groups: strs(ft, 'groups') };
    const name = optStr(ft, 'name');
    const limit = optNum(ft, 'flow_limit');
    if (name !== undefined) cfg.name = name;
    if (limit !== undefined) cfg.flowLimit = limit;
    out.set(k, cfg);
  });
  return out;
}

/** The SSL row the Open_vSwitch row points to, as connmgr's PKI files. */
export function pkiOf(idl: Idl): { privateKey: string; certificate: string; caCert: string } | undefined {
  const ovs = [...idl.table('Open_vSwitch').values()][0];
  const uuid = ovs?.get('ssl').keys[0];
  const ssl = uuid === undefined ? undefined : idl.row('SSL', String(uuid));
  if (!ssl) return undefined;
  const privateKey = optStr(ssl, 'private_key');
  const certificate = optStr(ssl, 'certificate');
  const caCert = optStr(ssl, 'ca_cert');
  return privateKey && certificate && caCert ? { privateKey, certificate, caCert } : undefined;
}

/** Applies a Bridge row's OpenFlow settings to its switch. */
export function configureOfproto(idl: Idl, row: IdlRow, ofproto: Ofproto): void {
  ofproto.connmgr.setPki(pkiOf(idl));
  ofproto.connmgr.setAllowedVersions(allowedVersions(row));
  const failMode = optStr(row, 'fail_mode') === 'secure' ? 'secure' : 'standalone';
  ofproto.setControllers(controllerConfigs(idl, row), failMode);
  ofproto.setTableConfig(tableConfigs(idl, row));
  const other = new Map(row.get('other_config').keys.map((k, i) => [String(k), String(row.get('other_config').values?.[i] ?? '')]));
  const aging = Number(other.get('mac-aging-time'));
  const size = Number(other.get('mac-table-size'));
  macTableOf(ofproto as object as Parameters<typeof macTableOf>[0]).configure(Number.isInteger(aging) && aging > 0 ? aging : MAC_DEFAULT_IDLE_TIME,
    Number.isInteger(size) && size > 0 ? size : MAC_DEFAULT_MAX);
}

const one = (v: string | boolean): Datum => ({ keys: [v], values: null });

/**
 * Writes Controller.is_connected, role and status for every controller row
 * of the bridge whose values changed; returns whether it wrote anything.
 * The status map (with its ticking seconds) only when `full`.
 */
export function writeControllerStatus(idl: Idl, row: IdlRow, ofproto: Ofproto, txn: IdlTxn, full: boolean): boolean {
  const byTarget = new Map(ofproto.connmgr.controllerStatus().map((s) => [s.target, s]));
  let wrote = false;
  for (const uuid of row.get('controller').keys) {
    const c = idl.row('Controller', String(uuid));
    if (!c) continue;
    const s = byTarget.get(optStr(c, 'target') ?? '');
    if (!s) continue;
    const keys = Object.keys(s.status).sort();
    const status = makeDatum(keys, keys.map((k) => s.status[k]!));
    const same = (col: string, d: Datum) => JSON.stringify(c.get(col)) === JSON.stringify(d);
    const w = txn.update(c);
    if (!same('is_connected', one(s.isConnected))) {
      w.set('is_connected', one(s.isConnected));
      wrote = true;
    }
    if (!same('role', one(s.role))) {
      w.set('role', one(s.role));
      wrote = true;
    }
    if ((full || !c.get('status').keys.length) && !same('status', status)) {
      w.set('status', status);
      wrote = true;
    }
  }
  return wrote;
}

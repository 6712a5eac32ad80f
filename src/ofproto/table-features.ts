// The TABLE_FEATURES reply: what each table can match, which instructions
// and actions it takes and which fields set_field can write, built from the
// codec's field table so it never claims a field the switch cannot handle.
// Property order follows OVS (hit properties, then the miss ones, then match
// and wildcards), which is the order ovs-ofctl's "ditto" grouping compares.

import { MATCH_FIELDS, codeFor, OFPTFPT, type MatchField, type TableFeatures, type TableFeatureProp } from '../openflow/index.js';
import { N_TABLES } from './flow-mod.js';
import type { OfTable } from './table.js';

/** OF1.1+ instruction types: goto_table, write_metadata, write/apply/clear actions, meter (OF1.3-1.4). */
const INSTRUCTIONS = [1, 2, 3, 4, 5, 6];
/** Action types the switch executes: output, set_mpls_ttl, dec_mpls_ttl, push/pop vlan, push/pop mpls, set_queue, group, set/dec nw ttl, set_field. */
const ACTIONS = [0, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
/** Fields a packet carries but set_field cannot change. */
const READ_ONLY = new Set([
  'in_phy_port', 'eth_type', 'nw_proto', 'ip_frag', 'tcp_flags', 'ct_state', 'ct_zone', 'mpls_bos', 'conj_id', 'dp_hash', 'recirc_id',
  'ct_nw_proto', 'ct_nw_src', 'ct_nw_dst', 'ct_ipv6_src', 'ct_ipv6_dst', 'ct_tp_src', 'ct_tp_dst', 'actset_output', 'packet_type',
  'tun_gtpu_flags', 'tun_gtpu_msgtype', 'nsh_mdtype', 'nsh_np',
]);

/** OXM ids of the fields: header words (and the experimenter id after an experimenter header). */
function oxmIds(fields: readonly MatchField[], version: number, withMask: boolean): number[] {
  const out: number[] = [];
  for (const f of fields) {
    // OVS knows the 16-bit NXM in_port and the 32-bit OXM one as two fields; the switch matches and sets both.
    if (f.name === 'in_port' && version >= 4) out.push(NXM_OF_IN_PORT);
    const c = codeFor(f, version);
    const bytes = c.bytes ?? f.bytes;
    const hm = withMask && f.maskable;
    const len = (hm ? 2 * bytes : bytes) + (c.experimenter !== undefined ? 4 : 0);
    out.push(((c.cls << 16) | (c.field << 9) | (hm ? 0x100 : 0) | len) >>> 0);
    if (c.experimenter !== undefined) out.push(c.experimenter);
  }
  return out;
}

/** NXM_OF_IN_PORT: class 0, field 0, 2 bytes. */
const NXM_OF_IN_PORT = 0x00000002;

const cache = new Map<number, { match: number[]; wildcards: number[]; setfield: number[] }>();

function fieldIds(version: number): { match: number[]; wildcards: number[]; setfield: number[] } {
  let c = cache.get(version);
  if (!c) {
    const writable = MATCH_FIELDS.filter((f) => !READ_ONLY.has(f.name));
    c = {
      match: oxmIds(MATCH_FIELDS, version, true),
      wildcards: oxmIds(MATCH_FIELDS, version, false),
      setfield: oxmIds(writable, version, false),
    };
    cache.set(version, c);
  }
  return c;
}

export function tableFeatures(t: OfTable, version: number): TableFeatures {
  const ids = fieldIds(version);
  // The last table has nowhere to go: no goto_table there (OVS lists none either).
  const last = t.id === N_TABLES - 1;
  const instructions = INSTRUCTIONS.filter((i) => (i !== 6 || version < 6) && !(i === 1 && last)).map((type) => ({ type, data: new Uint8Array(0) }));
  const actions = ACTIONS.map((type) => ({ type, data: new Uint8Array(0) }));
  const next = Array.from({ length: N_TABLES - t.id - 1 }, (_, i) => t.id + 1 + i);
  const hitAndMiss = (miss: boolean): TableFeatureProp[] => [
    { type: miss ? OFPTFPT.INSTRUCTIONS_MISS : OFPTFPT.INSTRUCTIONS, ids: instructions },
    { type: miss ? OFPTFPT.NEXT_TABLES_MISS : OFPTFPT.NEXT_TABLES, table_ids: next },
    { type: miss ? OFPTFPT.WRITE_ACTIONS_MISS : OFPTFPT.WRITE_ACTIONS, ids: actions },
    { type: miss ? OFPTFPT.WRITE_SETFIELD_MISS : OFPTFPT.WRITE_SETFIELD, oxm_ids: ids.setfield },
    { type: miss ? OFPTFPT.APPLY_ACTIONS_MISS : OFPTFPT.APPLY_ACTIONS, ids: actions },
    { type: miss ? OFPTFPT.APPLY_SETFIELD_MISS : OFPTFPT.APPLY_SETFIELD, oxm_ids: ids.setfield },
  ] as TableFeatureProp[];
  return {
    table_id: t.id, command: 0, name: t.name ?? '', metadata_match: 0xffffffffffffffffn, metadata_write: 0xffffffffffffffffn,
    capabilities: 0, max_entries: t.maxFlows,
    properties: [
      ...hitAndMiss(false), ...hitAndMiss(true),
      { type: OFPTFPT.MATCH, oxm_ids: ids.match },
      { type: OFPTFPT.WILDCARDS, oxm_ids: ids.wildcards },
    ] as TableFeatureProp[],
  } as TableFeatures;
}

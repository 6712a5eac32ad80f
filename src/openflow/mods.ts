// The modification messages other than FLOW_MOD: PORT_MOD, TABLE_MOD,
// GROUP_MOD (with buckets) and METER_MOD (with bands), plus the pieces the
// statistics replies reuse (buckets, bands, table properties, ofp_table_desc).

import { actionList, type Action } from './actions.js';
import {
  length16, lengthOf, list, mac, pad, propList, restMod, struct, tlvList, u16, u32, u8,
  type Prop, type RawProp, type StructValue,
} from './wire.js';

// ---------------------------------------------------------------- PORT_MOD

const portMod10Fields = { port_no: u16, hw_addr: mac, config: u32, mask: u32, advertise: u32, _pad: pad(4) };
const portMod11Fields = { port_no: u32, _pad: pad(4), hw_addr: mac, _pad2: pad(2), config: u32, mask: u32, advertise: u32, _pad3: pad(4) };

const portModEthernet = { advertise: u32 };
const portModOptical = { configure: u32, freq_lmda: u32, fl_offset: u32, grid_span: u32, tx_pwr: u32 };
export type PortModProp = Prop<0, typeof portModEthernet> | Prop<1, typeof portModOptical> | RawProp;
const portModProps = propList<PortModProp>([[0, portModEthernet], [1, portModOptical]], 'port_mod property');
const portMod14Fields = { port_no: u32, _pad: pad(4), hw_addr: mac, _pad2: pad(2), config: u32, mask: u32, properties: portModProps };

export type PortMod10 = StructValue<typeof portMod10Fields>;
export type PortMod11 = StructValue<typeof portMod11Fields>;
export type PortMod14 = StructValue<typeof portMod14Fields>;
export type PortMod = PortMod10 | PortMod11 | PortMod14;
export const portMod10 = struct(portMod10Fields, { what: 'ofp_port_mod' });
export const portMod11 = struct(portMod11Fields, { what: 'ofp_port_mod' });
export const portMod14 = struct(portMod14Fields, { what: 'ofp_port_mod' });

// ---------------------------------------------------------------- TABLE_MOD, table properties, ofp_table_desc

const tableEviction = { flags: u32 };
const tableVacancy = { vacancy_down: u8, vacancy_up: u8, vacancy: u8, _pad: pad(1) };
export type TableModProp = Prop<2, typeof tableEviction> | Prop<3, typeof tableVacancy> | RawProp;
export const tableModProps = propList<TableModProp>([[2, tableEviction], [3, tableVacancy]], 'table_mod property', 'OFPBPC_BAD_LEN');

const tableMod11Fields = { table_id: u8, _pad: pad(3), config: u32 };
const tableMod14Fields = { table_id: u8, _pad: pad(3), config: u32, properties: tableModProps };
export type TableMod11 = StructValue<typeof tableMod11Fields>;
export type TableMod14 = StructValue<typeof tableMod14Fields>;
export type TableMod = TableMod11 | TableMod14;
export const tableMod11 = struct(tableMod11Fields, { what: 'ofp_table_mod' });
export const tableMod14 = struct(tableMod14Fields, { what: 'ofp_table_mod' });

const tableDescFields = { length: length16, table_id: u8, _pad: pad(1), config: u32, properties: tableModProps };
export type TableDesc = StructValue<typeof tableDescFields>;
export const tableDesc = struct(tableDescFields, { what: 'ofp_table_desc' });

// ---------------------------------------------------------------- groups

export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2, INSERT_BUCKET: 3, REMOVE_BUCKET: 5 } as const;
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;

function bucket11Fields(version: number) {
  return { len: length16, weight: u16, watch_port: u32, watch_group: u32, _pad: pad(4), actions: actionList(version) };
}
export type Bucket11 = StructValue<ReturnType<typeof bucket11Fields>> & { actions: Action[] };
export const bucket11 = (v: number) => struct(bucket11Fields(v), { what: 'ofp_bucket', lenError: 'OFPGMFC_BAD_BUCKET' });

const bucketWeight = { weight: u16, _pad: pad(2) };
const bucketWatchPort = { watch_port: u32 };
const bucketWatchGroup = { watch_group: u32 };
export type BucketProp = Prop<0, typeof bucketWeight> | Prop<1, typeof bucketWatchPort> | Prop<2, typeof bucketWatchGroup> | RawProp;
const bucketProps = propList<BucketProp>([[0, bucketWeight], [1, bucketWatchPort], [2, bucketWatchGroup]], 'group bucket property');
const bucket15Fields = {
  len: length16, _action_array_len: lengthOf('actions'), bucket_id: u32, actions: actionList(6), properties: bucketProps,
};
export type Bucket15 = StructValue<typeof bucket15Fields>;
export const bucket15 = struct(bucket15Fields, { what: 'ofp15_bucket', lenError: 'OFPGMFC_BAD_BUCKET' });

export type GroupProp = RawProp;
const groupProps = tlvList<GroupProp>(new Map(), {
  align: 8, lenError: 'OFPBPC_BAD_LEN', what: 'group property', raw: (t) => ({ ...t, raw: true }), unraw: (v) => v,
});

function groupMod11Fields(version: number) {
  return { command: u16, type: u8, _pad: pad(1), group_id: u32, buckets: list(bucket11(version), 'buckets') };
}
const groupMod15Fields = {
  command: u16, type: u8, _pad: pad(1), group_id: u32, _bucket_array_len: lengthOf('buckets'), _pad2: pad(2), command_bucket_id: u32,
  buckets: list(bucket15, 'buckets'), properties: groupProps,
};
export type GroupMod11 = StructValue<ReturnType<typeof groupMod11Fields>> & { buckets: Bucket11[] };
export type GroupMod15 = StructValue<typeof groupMod15Fields>;
/** OFPT_GROUP_MOD: OF1.1-1.4 buckets (weight, watch_port, watch_group), OF1.5 buckets with ids and properties. */
export type GroupMod = GroupMod11 | GroupMod15;
export const groupMod11 = (v: number) => struct(groupMod11Fields(v), { what: 'ofp_group_mod' });
export const groupMod15 = struct(groupMod15Fields, { what: 'ofp15_group_mod' });

// group_desc statistics entries reuse the buckets
function groupDesc11Fields(version: number) {
  return { length: length16, type: u8, _pad: pad(1), group_id: u32, buckets: list(bucket11(version), 'buckets') };
}
const groupDesc15Fields = {
  length: length16, type: u8, _pad: pad(1), group_id: u32, _bucket_list_len: lengthOf('buckets'), _pad2: pad(6),
  buckets: list(bucket15, 'buckets'), properties: groupProps,
};
export type GroupDesc11 = StructValue<ReturnType<typeof groupDesc11Fields>> & { buckets: Bucket11[] };
export type GroupDesc15 = StructValue<typeof groupDesc15Fields>;
export type GroupDesc = GroupDesc11 | GroupDesc15;
export const groupDesc11 = (v: number) => struct(groupDesc11Fields(v), { what: 'ofp_group_desc' });
export const groupDesc15 = struct(groupDesc15Fields, { what: 'ofp15_group_desc' });

// ---------------------------------------------------------------- meters

export const OFPMBT = { DROP: 1, DSCP_REMARK: 2, EXPERIMENTER: 0xffff } as const;
const bandDrop = { rate: u32, burst_size: u32, _pad: pad(4) };
const bandDscp = { rate: u32, burst_size: u32, prec_level: u8, _pad: pad(3) };
const bandExperimenter = { rate: u32, burst_size: u32, experimenter: u32, data: restMod(8) };
export type MeterBand = Prop<1, typeof bandDrop> | Prop<2, typeof bandDscp> | Prop<0xffff, typeof bandExperimenter> | RawProp;
/** Meter bands: u16 type, u16 len (whole band), rate, burst_size, then the type's fields. */
export const meterBands = propList<MeterBand>(
  [[OFPMBT.DROP, bandDrop], [OFPMBT.DSCP_REMARK, bandDscp], [OFPMBT.EXPERIMENTER, bandExperimenter]], 'meter band', 'OFPMMFC_BAD_BAND', 8,
);

const meterModFields = { command: u16, flags: u16, meter_id: u32, bands: meterBands };
export type MeterMod = StructValue<typeof meterModFields>;
export const meterMod = struct(meterModFields, { what: 'ofp_meter_mod' });

const meterConfigFields = { length: length16, flags: u16, meter_id: u32, bands: meterBands };
export type MeterConfig = StructValue<typeof meterConfigFields>;
export const meterConfig = struct(meterConfigFields, { what: 'ofp_meter_config' });

// What the switch does with each OpenFlow message a connection passes it
// (OVS's handle_openflow): state changes go to the Ofproto, questions get
// replies built here or in stats.ts. Connection-level messages (HELLO, ECHO,
// roles, async config, formats) never get here: connmgr answers them.

import {
  OfError, actionsFromWire, checkConsistency, checkSetDestinations, port11To10, validateMatch,
  type OfMessage, type MessageOf, type Match, type PortMod,
} from '../openflow/index.js';
import { decodeFlowMod, port16 } from './flow-mod.js';
import { N_TABLES } from './flow-mod.js';
import type { OfConn } from './connmgr.js';
import type { Ofproto } from './ofproto.js';
import { port32 } from './ofproto.js';
import { handleMultipart } from './stats.js';
import { bindTunMetadataActions } from './tlv-map.js';

/** OFPC_* capabilities as OVS reports them. */
const CAPABILITIES_10 = 0x01 | 0x02 | 0x04 | 0x40 | 0x80; // flow, table, port, queue stats, ARP_MATCH_IP
const CAPABILITIES_11 = 0x01 | 0x02 | 0x04 | 0x08 | 0x40; // flow, table, port, group, queue stats
/** OF1.0 action bitmap: output through mod_tp_dst and enqueue. */
const ACTIONS_10 = 0xfff;

export function handleMessage(of: Ofproto, conn: OfConn, msg: OfMessage, raw: Uint8Array): void {
  const { version, xid } = msg;
  switch (msg.kind) {
    case 'FEATURES_REQUEST':
      conn.send(featuresReply(of, version, xid));
      return;
    case 'BARRIER_REQUEST':
      conn.send({ version, xid, kind: 'BARRIER_REPLY', body: {} });
      return;
    case 'FLOW_MOD':
    case 'NXT_FLOW_MOD':
      of.flowMod(decodeFlowMod(msg, conn.flowModTableId), conn, xid);
      return;
    case 'PACKET_OUT':
      packetOut(of, msg);
      return;
    case 'PORT_MOD':
      portMod(of, msg.body, version);
      return;
    case 'TABLE_MOD':
      tableMod(of, msg);
      return;
    case 'GROUP_MOD':
      of.groups.handleGroupMod(msg);
      of.tablesVersion++;
      return;
    case 'NXT_GROUP_MOD':
      of.groups.handleNxGroupMod(msg);
      of.tablesVersion++;
      return;
    case 'METER_MOD': {
      const before = new Set(of.meters.ids());
      of.meters.handleMeterMod(msg);
      const gone = [...before].filter((id) => !of.meters.get(id));
      if (gone.length) of.deleteFlowsForMeters(gone);
      of.tablesVersion++;
      return;
    }
    case 'MULTIPART_REQUEST':
      handleMultipart(of, conn, msg);
      return;
    case 'QUEUE_GET_CONFIG_REQUEST': {
      const b = msg.body as { port: number };
      const p = version === 1 ? b.port : port11To10(b.port);
      if (p === undefined || (p !== 0xffff && p !== 0xfffc && !of.ports.has(p))) throw new OfError('OFPQOFC_BAD_PORT', `port ${b.port}`);
      conn.send({ version, xid, kind: 'QUEUE_GET_CONFIG_REPLY', body: { port: b.port, queues: [] } } as unknown as OfMessage);
      return;
    }
    case 'BUNDLE_CONTROL':
      of.bundles.control(conn, msg);
      return;
    case 'BUNDLE_ADD_MESSAGE':
      of.bundles.add(conn, msg, raw);
      return;
    case 'NXT_FLOW_MONITOR_CANCEL':
      of.monitors.cancel(conn, msg.body.id);
      return;
    case 'NXT_TLV_TABLE_MOD':
      of.tlvTable.mod(msg.body);
      of.tablesVersion++;
      return;
    case 'NXT_TLV_TABLE_REQUEST':
      conn.send({ version, xid, kind: 'NXT_TLV_TABLE_REPLY', body: of.tlvTable.reply() });
      return;
    case 'NXT_FLOW_AGE':
      return;
    case 'EXPERIMENTER':
      throw new OfError('OFPBRC_BAD_VENDOR', 'unknown experimenter message');
    default:
      throw new OfError('OFPBRC_BAD_TYPE', `${msg.kind} is not something a controller sends a switch`);
  }
}

function featuresReply(of: Ofproto, version: number, xid: number): OfMessage {
  const common = { datapath_id: of.datapathId, n_buffers: 0, n_tables: N_TABLES };
  if (version === 1) {
    const ports = [...of.ports.values()].sort((a, b) => a.ofport - b.ofport).map((p) => p.describe(1, port32));
    return { version, xid, kind: 'FEATURES_REPLY', body: { ...common, capabilities: CAPABILITIES_10, actions: ACTIONS_10, ports } } as unknown as OfMessage;
  }
  // OpenFlow 1.4 added a capability bit for bundles, which the switch has.
  const capabilities = CAPABILITIES_11 | (version >= 5 ? 0x200 : 0);
  return { version, xid, kind: 'FEATURES_REPLY', body: { ...common, auxiliary_id: 0, capabilities, reserved: 0 } } as unknown as OfMessage;
}

/** PACKET_OUT: the frame runs through the given actions as if it came in on in_port. */
function packetOut(of: Ofproto, msg: MessageOf<'PACKET_OUT'>): void {
  const v = msg.version;
  const b = msg.body as { buffer_id: number; in_port?: number; match?: Match; actions: Parameters<typeof actionsFromWire>[0]; data: Uint8Array };
  if (b.buffer_id !== 0xffffffff) throw new OfError('OFPBRC_BUFFER_UNKNOWN', `buffer ${b.buffer_id}: the switch buffers no packets`);
  let inPort: number;
  let metadata: Match = {};
  if (v >= 6) {
    const m = b.match ?? {};
    validateMatch(m);
    const inp = m.in_port?.value;
    const p = inp === undefined ? 0xfff8 : port11To10(Number(inp));
    if (p === undefined) throw new OfError('OFPBRC_BAD_PORT', `in_port ${inp}`);
    inPort = p;
    metadata = m;
  } else {
    const raw = b.in_port ?? 0xffff;
    const p = v === 1 ? raw : port11To10(raw);
    if (p === undefined) throw new OfError('OFPBRC_BAD_PORT', `in_port ${raw}`);
    inPort = p;
  }
  // OFPP_NONE (OF1.0) / OFPP_ANY: the packet comes from the controller itself.
  if (inPort === 0xffff) inPort = 0xfffd;
  if (inPort >= 0xff00 && inPort !== 0xfffd && inPort !== 0xfffe) throw new OfError('OFPBRC_BAD_PORT', `in_port ${inPort}`);
  const actions = bindTunMetadataActions(actionsFromWire(b.actions, v), of.tlvTable);
  checkSetDestinations(actions);
  checkConsistency(actions, {}, v);
  of.checkActions(actions, 0);
  if (!of.pipeline) throw new OfError('OFPBRC_EPERM', 'the switch has no datapath to send packets');
  of.pipeline.packetOut(of, inPort, b.data, actions, metadata);
}

function portMod(of: Ofproto, body: PortMod, version: number): void {
  const b = body as { port_no: number; hw_addr: string; config: number; mask: number };
  const p = version === 1 ? b.port_no : port16Safe(b.port_no);
  of.modPort(p, b.hw_addr, b.config, b.mask);
}

function port16Safe(p: number): number {
  try {
    return port16(p);
  } catch {
    throw new OfError('OFPPMFC_BAD_PORT', `port ${p}`);
  }
}

function tableMod(of: Ofproto, msg: MessageOf<'TABLE_MOD'>): void {
  const b = msg.body as { table_id: number; config: number };
  // Table 254 is OVS's hidden internal table: it exists but cannot be configured.
  if (b.table_id !== 0xff && b.table_id >= N_TABLES) throw new OfError('OFPTMFC_EPERM', `table ${b.table_id} is the switch's internal table`);
  // OF1.4 defines eviction (4) and vacancy events (8); OF1.1-1.3 had miss bits OVS ignores.
  const valid = msg.version >= 5 ? 0x4 | 0x8 : 0x3;
  if (b.config & ~valid) throw new OfError('OFPTMFC_BAD_CONFIG', `config 0x${b.config.toString(16)}`);
  const tables = b.table_id === 0xff ? of.tables : [of.tables[b.table_id]!];
  for (const t of tables) t.modConfig = b.config;
}

// tsw-ofctl's asynchronous commands: monitor (a controller-like connection
// that prints what the switch sends), snoop (the switch's copy of its
// controller traffic), and packet-out.

import {
  actionsParseProtocols, actionsToWire, decodeMessage, encodeMessage, oxmNames, parseActions, parseFlow, parsePort, protocolOfBit, versionOfBit,
  type Match, type MultipartRequest, type OfMessage, type SwitchConfig,
} from '../../openflow/index.js';
import { fatal, run, versionBitmapNames, type Io, type OfctlOptions } from './common.js';
import { multipart, wirePort, type OnlineHandler } from './cmds-info.js';
import { syntax, openForFlowMod } from './cmds-flows.js';
import { parseHex } from './cmds-offline.js';
import { namesForParse, portNumber, substituteNames } from './names.js';
import { allocXid, dumpTransaction, openVconn, printMessage, transactNoReply, vlogWarn, type Vconn } from './vconn.js';

const OFPC_INVALID_TTL_TO_CONTROLLER = 4;

async function fetchConfig(v: Vconn): Promise<SwitchConfig> {
  const b = await run(v.transact({ version: v.version, kind: 'GET_CONFIG_REQUEST', body: {} }), `talking to ${v.name}`);
  let m: OfMessage | undefined;
  try {
    m = decodeMessage(b);
  } catch { /* reported below */ }
  if (m?.kind !== 'GET_CONFIG_REPLY') fatal(`${v.name}: bad reply to config request`);
  return m.body;
}

/** NXT_SET_PACKET_IN_FORMAT; `must` makes a refusal fatal, otherwise it returns whether the switch took it. */
async function setPacketInFormat(v: Vconn, format: number, must: boolean, o: OfctlOptions, io: Io): Promise<boolean> {
  const msg = { version: v.version, kind: 'NXT_SET_PACKET_IN_FORMAT', body: { format } } as const;
  if (must) {
    await transactNoReply(v, msg, o, io);
    return true;
  }
  return !(await run(v.transactNoReply(msg), `talking to ${v.name}`));
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}: `;
}

const FATAL_SIGNALS = { SIGTERM: [15, 'Terminated'], SIGINT: [2, 'Interrupt'], SIGHUP: [1, 'Hangup'] } as const;

/** A long-running command says why it dies of a signal, as every OVS program's fatal-signal handler does, then dies of it. */
function warnOnFatalSignal(io: Io): void {
  for (const [sig, [num, text]] of Object.entries(FATAL_SIGNALS)) {
    const handler = (): void => {
      vlogWarn(io, 'fatal_signal', `terminating with signal ${num} (${text})`);
      process.off(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/** monitor_vconn: prints every message to stderr, answers echo requests when asked to; runs until the connection ends. */
async function monitorVconn(v: Vconn, replyToEcho: boolean, o: OfctlOptions, io: Io): Promise<void> {
  warnOnFatalSignal(io);
  for (;;) {
    const b = await run(v.recv(), 'vconn_recv');
    if (o.timestamp) io.err(timestamp());
    io.err(printMessage(b, o.verbosity + 2));
    if (replyToEcho && b[1] === 2) {
      const reply = new Uint8Array(b);
      reply[1] = 3;
      v.sendRaw(reply);
    }
  }
}

/** Monitor ids a tsw-ofctl process hands out, from 0 as ovs-ofctl does. */
let nextMonitorId = 0;

/**
 * A `watch:[spec]` argument as a flow monitor request (OVS's
 * parse_flow_monitor_request): everything reported, with actions and the
 * switch's own changes in full, unless `!initial`, `!add`, `!delete`,
 * `!modify`, `!actions` or `!own` say otherwise; `table=`, `out_port=`,
 * `out_group=` and match fields narrow it.
 */
export function flowMonitorRequest(spec: string, version: number, io: Io): MultipartRequest {
  // OFPFMF_* bits: INITIAL 1, ADD 2, REMOVED 4, MODIFY 8, INSTRUCTIONS 16, ONLY_OWN 64.
  let flags = 1 | 2 | 4 | 8 | 16 | 64;
  const off: Record<string, number> = { '!initial': 1, '!add': 2, '!delete': 4, '!modify': 8, '!actions': 16, '!own': 64, '!abbrev': 0 };
  let table = 0xff;
  let outPort = 0xffff;
  let outGroup = 0xffffffff;
  const matchParts: string[] = [];
  for (const part of spec.split(/[,\s]+/).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (name in off) {
      flags &= ~off[name]!;
    } else if (name === 'table' || name === 'out_port' || name === 'out_group') {
      if (value === '') fatal(`${spec}: field ${name} missing value`);
      if (name === 'table') {
        if (/^\d+$/.test(value) && Number(value) > 255) vlogWarn(io, 'ofp_table', `table ${value} is outside the supported range 0 through 255`);
        if (!/^\d+$/.test(value) || Number(value) > 255) fatal(`unknown table "${value}"`);
        table = Number(value);
      } else if (name === 'out_port') {
        outPort = (parseInt(value, 10) || 0) & 0xffff;
      } else {
        outGroup = (parseInt(value, 10) || 0) >>> 0;
      }
    } else {
      try {
        parseFlow(part, 'delete');
      } catch (e) {
        if (eq < 0) fatal(`${spec}: field ${name} missing value`);
        if (/unknown keyword/.test((e as Error).message)) fatal(`${spec}: unknown keyword ${name}`);
      }
      matchParts.push(part);
    }
  }
  const match: Match = matchParts.length ? syntax(() => parseFlow(matchParts.join(','), 'delete')).match : {};
  const id = nextMonitorId++;
  if (version >= 5) {
    return {
      stat: 'FLOW_MONITOR', flags: 0,
      body: { monitor_id: id, out_port: wirePort(outPort, version), out_group: outGroup, flags, table_id: table, command: 0, match: oxmNames(match) },
    } as unknown as MultipartRequest;
  }
  // The Nicira/ONF flags: the same bits up to ACTIONS (16), OWN is 32.
  const nxFlags = (flags & 0x1f) | (flags & 64 ? 32 : 0);
  const body = version === 4
    ? { id, flags: nxFlags, out_port: wirePort(outPort, version), table_id: table, match: oxmNames(match) }
    : { id, flags: nxFlags, out_port: outPort, table_id: table, match };
  return { stat: 'NX_FLOW_MONITOR', flags: 0, body: { body } } as unknown as MultipartRequest;
}

const monitor: OnlineHandler = async ([target, ...args], o, io) => {
  if (args.includes('invalid_ttl')) {
    const usable = (1 << 1) | (1 << 2) | (1 << 3);
    if (!(o.versions & usable)) fatal(`invalid_ttl requires one of the OpenFlow versions ${versionBitmapNames(usable)} but none is enabled (use -O)`);
    o.versions &= usable;
  }
  const v = await openVconn(target, o, io);
  try {
    for (const arg of args) {
      if (/^\d/.test(arg)) {
        const config = await fetchConfig(v);
        await transactNoReply(v, { version: v.version, kind: 'SET_CONFIG', body: { ...config, miss_send_len: parseInt(arg, 10) & 0xffff } }, o, io);
      } else if (arg.startsWith('watch:')) {
        const body = flowMonitorRequest(substituteNames(arg.slice(6), await namesForParse(target, o, io)), v.version, io);
        await dumpTransaction(v, multipart(v, body), o, io);
      } else if (arg === 'invalid_ttl') {
        let config = await fetchConfig(v);
        if (!(config.flags & OFPC_INVALID_TTL_TO_CONTROLLER)) {
          await transactNoReply(v, { version: v.version, kind: 'SET_CONFIG', body: { ...config, flags: config.flags | OFPC_INVALID_TTL_TO_CONTROLLER } }, o, io);
          config = await fetchConfig(v);
          if (!(config.flags & OFPC_INVALID_TTL_TO_CONTROLLER)) {
            fatal("setting invalid_ttl_to_controller failed (this switch probably doesn't support this flag)");
          }
        }
      } else {
        fatal(`${arg}: unsupported "monitor" argument`);
      }
    }
    const formats: Record<string, number> = { standard: 0, openflow10: 0, nxt_packet_in: 1, nxm: 1, nxt_packet_in2: 2 };
    if (o.packetInFormat !== undefined) {
      await setPacketInFormat(v, formats[o.packetInFormat], true, o, io);
    } else if (!(await setPacketInFormat(v, 2, false, o, io)) && v.version === 1) {
      await setPacketInFormat(v, 1, false, o, io);
    }
    await monitorVconn(v, true, o, io);
  } finally {
    v.close();
  }
};

const snoop: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, { ...o, names: false }, io, 'snoop');
  try {
    await monitorVconn(v, false, { ...o, names: false }, io);
  } finally {
    v.close();
  }
};

/** "in_port=P packet=HEX actions=..." (parse_ofp_packet_out_str), with a packet_type we do not need. */
function parsePacketOutText(s: string): { inPort: string; packet: Uint8Array; actions: string } {
  const a = s.indexOf('action');
  if (a < 0) fatal('must specify an action');
  const eq = s.indexOf('=', a);
  const actions = eq < 0 ? '' : s.slice(eq + 1);
  let inPort = 'NONE';
  let packet: Uint8Array | undefined;
  for (const part of s.slice(0, a).split(/[\s,]+/).filter(Boolean)) {
    const [k, val = ''] = part.split(/[=:](.*)/s);
    if (k === 'in_port') inPort = val;
    else if (k === 'packet') {
      packet = parseHex(val);
      if (packet.length < 14) fatal('packet: Packet data too short for Ethernet');
    }
    else if (k !== 'packet_type') fatal(`unknown keyword ${k}`);
  }
  if (!packet) fatal('must specify packet');
  return { inPort, packet, actions };
}

const packetOut: OnlineHandler = async ([target, ...rest], o, io) => {
  const names = await namesForParse(target, o, io);
  let inPortText: string;
  let actionText: string;
  let packets: Uint8Array[];
  if (rest.length >= 3) {
    [inPortText, actionText] = rest;
    packets = rest.slice(2).map((h) => parseHex(h));
  } else if (rest.length === 1) {
    const p = parsePacketOutText(rest[0]);
    [inPortText, actionText, packets] = [p.inPort, p.actions, [p.packet]];
  } else {
    fatal(`Too many arguments (${rest.length + 2})`);
  }
  const actions = syntax(() => parseActions(substituteNames(actionText, names)));
  const inPort = await portNumber(target, inPortText, o, io, parsePort);
  const usable = actionsParseProtocols(actions, false);
  const { v, protocol } = await openForFlowMod(target, usable, o, io);
  try {
    const version = versionOfBit(protocol);
    if (version === 2 || version === 3) fatal(`OpenFlow1${version - 1} packet-outs are not supported by tsw's codec`);
    const wire = actionsToWire(actions, protocolOfBit(protocol));
    const port32 = inPort >= 0xff00 ? (inPort + 0xffff0000) >>> 0 : inPort;
    for (const data of packets) {
      const body = version === 1 ? { buffer_id: 0xffffffff, in_port: inPort, actions: wire, data }
        : version >= 6 ? { buffer_id: 0xffffffff, match: oxmNames({ in_port: { value: BigInt(port32) } } as Match), actions: wire, data }
          : { buffer_id: 0xffffffff, in_port: port32, actions: wire, data };
      const msg = { version, xid: allocXid(), kind: 'PACKET_OUT', body } as OfMessage;
      await transactNoReply(v, encodeMessage(msg), o, io);
    }
  } finally {
    v.close();
  }
};

export const MONITOR_COMMANDS: Record<string, { min: number; max: number; online: OnlineHandler }> = {
  monitor: { min: 1, max: 3, online: monitor },
  snoop: { min: 1, max: 1, online: snoop },
  'packet-out': { min: 2, max: Infinity, online: packetOut },
};


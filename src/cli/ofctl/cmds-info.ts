// tsw-ofctl commands that read the switch's description, tables and ports,
// and mod-port: show, dump-desc, dump-tables, dump-table-features,
// dump-table-desc, dump-ports, dump-ports-desc, mod-port, probe.

import { decodeMessage, parsePort, type FeaturesReply, type MultipartRequest, type Port, type TableFeatures } from '../../openflow/index.js';
import { formatTableFeatures } from '../../openflow/print/table-features.js';
import { fatal, run, type Io, type OfctlOptions } from './common.js';
import { fetchPorts, portNumber } from './names.js';
import { collectMultipart, dumpTransaction, openVconn, printMessage, transactNoReply, type Unsent, type Vconn } from './vconn.js';

export type OnlineHandler = (args: string[], o: OfctlOptions, io: Io) => Promise<void>;

/** OFPP_ANY in the version's port width (OF1.0's is OFPP_NONE). */
export function anyPort(version: number): number {
  return version === 1 ? 0xffff : 0xffffffff;
}

/** A 16-bit port number as the version carries it (reserved ports move to 0xffffffxx in OF1.1+). */
export function wirePort(p: number, version: number): number {
  if (version === 1) return p;
  return p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p;
}

export function multipart(v: Vconn, body: MultipartRequest): Unsent {
  return { version: v.version, kind: 'MULTIPART_REQUEST', body };
}

/** dump_trivial_transaction: a new connection, one request, its replies printed. */
async function dumpTrivial(target: string, o: OfctlOptions, io: Io, make: (v: Vconn) => Unsent): Promise<void> {
  const v = await openVconn(target, o, io);
  try {
    await dumpTransaction(v, make(v), o, io);
  } finally {
    v.close();
  }
}

const show: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    const reply = await run(v.transact({ version: v.version, kind: 'FEATURES_REQUEST', body: {} }), `talking to ${target}`);
    io.out(printMessage(reply, o.verbosity + 1));
    let hasPorts = false;
    try {
      const m = decodeMessage(reply);
      hasPorts = m.kind === 'FEATURES_REPLY' && 'ports' in (m.body as FeaturesReply);
    } catch { /* printed above as a decode error */ }
    if (!hasPorts) {
      const body: MultipartRequest = { stat: 'PORT_DESC', flags: 0, body: v.version >= 6 ? { port_no: anyPort(v.version) } : {} };
      await dumpTransaction(v, multipart(v, body), o, io);
    }
    await dumpTrivial(target, o, io, (w) => ({ version: w.version, kind: 'GET_CONFIG_REQUEST', body: {} }));
  } finally {
    v.close();
  }
};

const dumpDesc: OnlineHandler = ([target], o, io) =>
  dumpTrivial(target, o, io, (v) => multipart(v, { stat: 'DESC', flags: 0, body: {} }));

const dumpTables: OnlineHandler = ([target], o, io) =>
  dumpTrivial(target, o, io, (v) => multipart(v, { stat: 'TABLE', flags: 0, body: {} }));

const dumpTableDesc: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    if (v.version < 5) fatal("dump-table-desc needs OpenFlow 1.4 or later ('-O OpenFlow14')");
    await dumpTransaction(v, multipart(v, { stat: 'TABLE_DESC', flags: 0, body: {} }), o, io);
  } finally {
    v.close();
  }
};

/** The features of every table, with "ditto" runs across reply messages (ofctl_dump_table_features). */
const dumpTableFeatures: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    if (v.version < 4) fatal("dump-table-features needs OpenFlow 1.3 or later ('-O OpenFlow13')");
    const { parts, error } = await collectMultipart(v, multipart(v, { stat: 'TABLE_FEATURES', flags: 0, body: { entries: [] } }), o);
    if (error) {
      io.out(printMessage(error, o.verbosity + 1));
      return;
    }
    const entries = parts.flatMap((p) => (p.body as { entries: TableFeatures[] }).entries);
    const s = formatTableFeatures(entries, v.version);
    io.out((s.startsWith('\n') ? s.slice(1) : s) + '\n');
  } finally {
    v.close();
  }
};

const dumpPorts: OnlineHandler = async ([target, port], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    const p = port === undefined ? anyPort(v.version) : wirePort(await portNumber(target, port, o, io, parsePort), v.version);
    await dumpTransaction(v, multipart(v, { stat: 'PORT_STATS', flags: 0, body: { port_no: p } }), o, io);
  } finally {
    v.close();
  }
};

const dumpPortsDesc: OnlineHandler = async ([target, port], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    const p = port === undefined ? anyPort(v.version) : wirePort(await portNumber(target, port, o, io, parsePort), v.version);
    await dumpTransaction(v, multipart(v, { stat: 'PORT_DESC', flags: 0, body: v.version >= 6 ? { port_no: p } : {} }), o, io);
  } finally {
    v.close();
  }
};

/** OFPUTIL_PC_* bits and the mod-port words that set or clear them. */
const PORT_FLAGS: readonly [string, number, boolean][] = [
  ['up', 1, false], ['down', 1, true], ['stp', 2, false], ['receive', 4, false], ['receive-stp', 8, false],
  ['flood', 16, false], ['forward', 32, false], ['packet-in', 64, false],
];
/** The config bits OF1.1+ can carry (PORT_DOWN, NO_RECV, NO_FWD, NO_PACKET_IN). */
const OFPPC11_ALL = 1 | 4 | 32 | 64;

const modPort: OnlineHandler = async ([target, portArg, command], o, io) => {
  // fetch_ofputil_phy_port: a decimal number matches port_no, anything else the name.
  const byNumber = /^\d+$/.test(portArg) ? Number(portArg) & 0xffff : undefined;
  const lookup = await openVconn(target, o, io);
  let port: Port | undefined;
  try {
    for (const p of await fetchPorts(lookup, o)) {
      const no = lookup.version === 1 ? p.port_no : p.port_no >= 0xffffff00 ? p.port_no - 0xffff0000 : p.port_no;
      if (byNumber !== undefined ? no === byNumber : p.name === portArg) {
        port = p;
        break;
      }
    }
  } finally {
    lookup.close();
  }
  if (!port) fatal(`${target}: couldn't find port \`${portArg}'`);
  let word = command;
  let not = false;
  if (/^no-/i.test(word)) [word, not] = [word.slice(3), true];
  else if (/^no/i.test(word)) [word, not] = [word.slice(2), true];
  const flag = PORT_FLAGS.find(([n]) => n === word.toLowerCase());
  if (!flag) fatal(`unknown mod-port command '${command}'`);
  const [, bit, on] = flag;
  let mask = bit;
  let config = on !== not ? bit : 0;
  const v = await openVconn(target, o, io);
  try {
    let body;
    if (v.version === 1) {
      body = { port_no: port.port_no & 0xffff, hw_addr: port.hw_addr, config, mask, advertise: 0 };
    } else {
      config &= OFPPC11_ALL;
      mask &= OFPPC11_ALL;
      const portNo = wirePort(port.port_no, v.version);
      body = v.version >= 5
        ? { port_no: portNo, hw_addr: port.hw_addr, config, mask, properties: [] }
        : { port_no: portNo, hw_addr: port.hw_addr, config, mask, advertise: 0 };
    }
    await transactNoReply(v, { version: v.version, kind: 'PORT_MOD', body }, o, io);
  } finally {
    v.close();
  }
};

const probe: OnlineHandler = async ([target], o, io) => {
  const v = await openVconn(target, o, io);
  try {
    const reply = await run(v.transact({ version: v.version, kind: 'ECHO_REQUEST', body: { data: new Uint8Array(0) } }), `talking to ${target}`);
    if (reply.length !== 8) fatal('reply does not match request');
  } finally {
    v.close();
  }
};

export const INFO_COMMANDS: Record<string, { min: number; max: number; online: OnlineHandler }> = {
  show: { min: 1, max: 1, online: show },
  'dump-desc': { min: 1, max: 1, online: dumpDesc },
  'dump-tables': { min: 1, max: 1, online: dumpTables },
  'dump-table-features': { min: 1, max: 1, online: dumpTableFeatures },
  'dump-table-desc': { min: 1, max: 1, online: dumpTableDesc },
  'dump-ports': { min: 1, max: 2, online: dumpPorts },
  'dump-ports-desc': { min: 1, max: 2, online: dumpPortsDesc },
  'mod-port': { min: 3, max: 3, online: modPort },
  probe: { min: 1, max: 1, online: probe },
};

// tsw-ofctl's group and meter commands: add-group(s), mod-group, del-groups,
// insert-buckets, remove-buckets, dump-groups, dump-group-stats,
// dump-group-features, add-meter, mod-meter, del-meter(s), dump-meter(s),
// meter-stats, meter-features. OF1.0 groups travel as Nicira messages.

import { readFileSync } from 'node:fs';
import {
  encodeMessage, flowProtocols, groupModMessage, nxGroupModBytes, parseGroupModText, parseMeterModText, meterModMessage, versionOfBit,
  type GroupCommand, type MeterCommand, type MultipartRequest, type TextGroupMod,
} from '../../openflow/index.js';
import { P_OF13_UP, fatal, protocolsOfVersionBitmap, versionBitmapOfProtocols, type Io, type OfctlOptions } from './common.js';
import { multipart, type OnlineHandler } from './cmds-info.js';
import { fileLines, openForFlowMod, parseFileFlow, readFile, syntax, wireTable } from './cmds-flows.js';
import { encodeFlow } from './parse.js';
import { bundleTransact } from './bundle.js';
import { namesForParse, substituteNames } from './names.js';
import { allocXid, dumpTransaction, openVconn, transactNoReply, type Vconn } from './vconn.js';

const OFPG_ALL = 0xfffffffc;
const OFPG_ANY = 0xffffffff;
const OFPM_ALL = 0xffffffff;

function encodeGroup(g: TextGroupMod, version: number): Uint8Array {
  if (version === 2 || version === 3) fatal(`OpenFlow1${version - 1} group mods are not supported by tsw's codec`);
  try {
    return version === 1 ? nxGroupModBytes(g, allocXid()) : encodeMessage(groupModMessage(g, version, allocXid()));
  } catch (e) {
    if (e instanceof RangeError) fatal(`cannot encode this group in OpenFlow1${version - 1}: ${e.message}`);
    throw e;
  }
}

async function sendGroupMods(target: string, groups: TextGroupMod[], usable: number, o: OfctlOptions, io: Io): Promise<void> {
  const { v, protocol } = await openForFlowMod(target, o.bundle ? usable & P_OF13_UP : usable, o, io);
  const version = versionOfBit(protocol);
  try {
    if (o.bundle) {
      await bundleTransact(v, groups.map((g) => encodeGroup(g, version)), o, io);
      return;
    }
    for (const g of groups) await transactNoReply(v, encodeGroup(g, version), o, io);
  } finally {
    v.close();
  }
}

function readText(name: string): string {
  try {
    return (name === '-' ? readFileSync(0) : readFileSync(name)).toString('latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fatal(`${name}: open failed (${code === 'ENOENT' ? 'No such file or directory' : String(code)})`);
  }
}

async function groupModFile(target: string, file: string, command: GroupCommand | 'text', o: OfctlOptions, io: Io): Promise<void> {
  const names = await namesForParse(target, o, io);
  const groups: TextGroupMod[] = [];
  let usable = (1 << 9) - 1;
  for (const { line, text } of fileLines(readText(file))) {
    const r = syntax(() => parseGroupModText(substituteNames(text, names), command), `${file}:${line}: `);
    groups.push(r.group);
    usable &= r.usable;
  }
  await sendGroupMods(target, groups, usable, o, io);
}

function groupMod(command: (o: OfctlOptions) => GroupCommand): OnlineHandler {
  return async ([target, text = ''], o, io) => {
    if (text === '-') return groupModFile(target, '-', command(o) === 'add' ? 'text' : command(o), o, io);
    const names = await namesForParse(target, o, io);
    const { group, usable } = syntax(() => parseGroupModText(substituteNames(text, names), command(o)));
    await sendGroupMods(target, [group], usable, o, io);
  };
}

/** ofputil_group_from_string: "all", "any" or a number up to OFPG_MAX. */
function groupFromString(s: string): number | undefined {
  if (s.toLowerCase() === 'all') return OFPG_ALL;
  if (s.toLowerCase() === 'any') return OFPG_ANY;
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xffffff00 ? n : undefined;
}

async function dumpOn(target: string, o: OfctlOptions, io: Io, make: (v: Vconn) => MultipartRequest): Promise<void> {
  const v = await openVconn(target, o, io);
  try {
    await dumpTransaction(v, multipart(v, make(v)), o, io);
  } finally {
    v.close();
  }
}

const dumpGroups: OnlineHandler = async ([target, g], o, io) => {
  const id = (g !== undefined ? groupFromString(g) : undefined) ?? OFPG_ALL;
  await dumpOn(target, o, io, (v): MultipartRequest => {
    if (v.version === 1) return { stat: 'NX_GROUP_DESC', flags: 0, body: { body: { id } } };
    return { stat: 'GROUP_DESC', flags: 0, body: v.version >= 6 ? { id } : {} };
  });
};

const dumpGroupStats: OnlineHandler = async ([target, text = ''], o, io) => {
  const names = await namesForParse(target, o, io);
  const { group } = syntax(() => parseGroupModText(substituteNames(text, names), 'delete'));
  await dumpOn(target, o, io, (v) => v.version === 1
    ? { stat: 'NX_GROUP', flags: 0, body: { body: { id: group.group_id } } }
    : { stat: 'GROUP', flags: 0, body: { id: group.group_id } });
};

const dumpGroupFeatures: OnlineHandler = ([target], o, io) =>
  dumpOn(target, o, io, (v) => (v.version === 1 ? { stat: 'NX_GROUP_FEATURES', flags: 0, body: {} } : { stat: 'GROUP_FEATURES', flags: 0, body: {} }));

// ---------------------------------------------------------------- meters

function meterMod(command: MeterCommand): OnlineHandler {
  return async ([target, text], o, io) => {
    const { meter, usable } = text === undefined
      ? { meter: { command, meter_id: OFPM_ALL, flags: 0, bands: [] }, usable: P_OF13_UP }
      : syntax(() => parseMeterModText(text, command));
    const { v, protocol } = await openForFlowMod(target, usable, o, io);
    try {
      await transactNoReply(v, encodeMessage(meterModMessage(meter, versionOfBit(protocol), allocXid())), o, io);
    } finally {
      v.close();
    }
  };
}

function meterRequest(stat: 'METER' | 'METER_CONFIG' | 'METER_FEATURES'): OnlineHandler {
  return async ([target, text], o, io) => {
    const { meter, usable } = text === undefined
      ? { meter: { meter_id: OFPM_ALL }, usable: P_OF13_UP }
      : syntax(() => parseMeterModText(text, 'delete'));
    const { v } = await openForFlowMod(target, usable, o, io);
    try {
      const body: MultipartRequest = stat === 'METER_FEATURES' ? { stat, flags: 0, body: {} } : { stat, flags: 0, body: { id: meter.meter_id } };
      await dumpTransaction(v, multipart(v, body), o, io);
    } finally {
      v.close();
    }
  };
}

// ---------------------------------------------------------------- bundle FILE

type BundleMsg = { flow: ReturnType<typeof parseFileFlow> } | { group: TextGroupMod };

/** bundle SWITCH FILE: "flow ..." and "group ..." lines sent as one atomic, ordered bundle (OpenFlow 1.4 implied). */
const bundle: OnlineHandler = async ([target, file], o, io) => {
  const names = await namesForParse(target, o, io);
  const msgs: BundleMsg[] = [];
  let usable = (1 << 9) - 1;
  for (const { line, text } of fileLines(readFile(file))) {
    const s = text.replace(/^[ \t\r\n]+/, '');
    const len = /^[^, \t\r\n]*/.exec(s)?.[0].length ?? 0;
    const word = s.slice(0, len);
    const rest = substituteNames(s.slice(len), names);
    const where = `${file}:${line}: `;
    if ('flow'.startsWith(word)) {
      const flow = syntax(() => parseFileFlow(rest, undefined), where);
      usable &= syntax(() => flowProtocols(rest, flow), where);
      msgs.push({ flow });
    } else if ('group'.startsWith(word)) {
      const r = syntax(() => parseGroupModText(rest, 'text'), where);
      usable &= r.usable;
      msgs.push({ group: r.group });
    } else {
      fatal(`${where}Unsupported bundle message type: ${word}`);
    }
  }
  const of13up = versionBitmapOfProtocols(P_OF13_UP);
  if (!(o.versions & of13up)) {
    o.versions = ((o.versions | (1 << 5)) & of13up) >>> 0;
    o.allowed = protocolsOfVersionBitmap(o.versions);
  }
  const { v, protocol } = await openForFlowMod(target, usable & P_OF13_UP, o, io);
  try {
    const version = versionOfBit(protocol);
    const requests = msgs.map((m) => ('flow' in m ? encodeFlow(wireTable(m.flow, protocol), protocol, allocXid(), fatal) : encodeGroup(m.group, version)));
    await bundleTransact(v, requests, o, io);
  } finally {
    v.close();
  }
};

export const GROUP_METER_COMMANDS: Record<string, { min: number; max: number; online: OnlineHandler }> = {
  'add-group': { min: 1, max: 2, online: groupMod(() => 'add') },
  'add-groups': { min: 2, max: 2, online: ([t, f], o, io) => groupModFile(t, f, 'text', o, io) },
  'mod-group': { min: 1, max: 2, online: groupMod((o) => (o.mayCreate ? 'add_or_mod' : 'modify')) },
  'del-groups': { min: 1, max: 2, online: groupMod(() => 'delete') },
  'insert-buckets': { min: 1, max: 2, online: groupMod(() => 'insert_bucket') },
  'remove-buckets': { min: 1, max: 2, online: groupMod(() => 'remove_bucket') },
  'dump-groups': { min: 1, max: 2, online: dumpGroups },
  'dump-group-stats': { min: 1, max: 2, online: dumpGroupStats },
  'dump-group-features': { min: 1, max: 1, online: dumpGroupFeatures },
  'add-meter': { min: 2, max: 2, online: meterMod('add') },
  'mod-meter': { min: 2, max: 2, online: meterMod('modify') },
  'del-meter': { min: 1, max: 2, online: meterMod('delete') },
  'del-meters': { min: 1, max: 2, online: meterMod('delete') },
  'dump-meter': { min: 1, max: 2, online: meterRequest('METER_CONFIG') },
  'dump-meters': { min: 1, max: 2, online: meterRequest('METER_CONFIG') },
  'meter-stats': { min: 1, max: 2, online: meterRequest('METER') },
  'meter-features': { min: 1, max: 1, online: meterRequest('METER_FEATURES') },
  bundle: { min: 2, max: 2, online: bundle },
};

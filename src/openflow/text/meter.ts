// Meters in the ovs-ofctl syntax (add-meter, mod-meter, del-meters):
// `meter=1,kbps,burst,stats,bands=type=drop rate=1000 burst_size=100`
// into a version-free meter mod, that into METER_MOD (OF1.3+), and meters
// printed the way ovs-ofctl prints meter mods and dump-meters entries.

import { OfError } from '../errors.js';
import type { MeterBand, MeterMod } from '../mods.js';
import type { OfMessage } from '../messages.js';
import { fail } from './errors.js';
import { strToU32, strToU8 } from './scan.js';
import { P_OF13_UP } from './usable.js';

export type MeterCommand = 'add' | 'modify' | 'delete';
export const METER_COMMANDS: Readonly<Record<MeterCommand, number>> = { add: 0, modify: 1, delete: 2 };

/** Meter flag bits (OFPMF13_*). */
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
/** Band types (OFPMBT13_*). */
export const OFPMBT_DROP = 1;
export const OFPMBT_DSCP_REMARK = 2;
/** The largest real meter id, and the virtual meters. */
export const OFPM_MAX = 0xffff0000;
export const OFPM_SLOWPATH = 0xfffffffd;
export const OFPM_CONTROLLER = 0xfffffffe;
export const OFPM_ALL = 0xffffffff;

export interface TextMeterBand {
  /** OFPMBT_DROP, OFPMBT_DSCP_REMARK, or another type number decoded from the wire. */
  readonly type: number;
  readonly rate: number;
  readonly burst_size: number;
  /** dscp_remark only. */
  readonly prec_level: number;
}

/** A meter mod (or, as a meter's configuration, just meter_id, flags and bands). */
export interface TextMeterMod {
  readonly command: MeterCommand;
  readonly meter_id: number;
  /** OFPMF bits. */
  readonly flags: number;
  readonly bands: readonly TextMeterBand[];
}

/** C's strtok_r over `s`: the next token ending at one of `delims`, and where the scan resumes. */
function strtok(s: string, pos: number, delims: string): [string | undefined, number] {
  while (pos < s.length && delims.includes(s[pos])) pos++;
  if (pos >= s.length) return [undefined, pos];
  let end = pos;
  while (end < s.length && !delims.includes(s[end])) end++;
  return [s.slice(pos, end), end < s.length ? end + 1 : end];
}

const NAME_DELIMS = '=, \t\r\n';
const VALUE_DELIMS = ', \t\r\n';

/** Parses a meter in ovs-ofctl syntax for `command`; meters need OpenFlow 1.3 or later (usable.ts bits in `usable`). */
export function parseMeterModText(text: string, command: MeterCommand = 'add'): { meter: TextMeterMod; usable: number } {
  const withBands = command !== 'delete';
  let s = text;
  let bandText = '';
  if (withBands) {
    const b = s.indexOf('band');
    if (b < 0) fail('must specify bands');
    const eq = s.indexOf('=', b + 1);
    if (eq < 0) fail('must specify bands');
    bandText = s.slice(eq + 1);
    s = s.slice(0, b);
  }
  let meterId = 0;
  let flags = 0;
  const FLAG_WORDS: Record<string, number> = { kbps: OFPMF.KBPS, pktps: OFPMF.PKTPS, burst: OFPMF.BURST, stats: OFPMF.STATS };
  for (let [name, pos] = strtok(s, 0, NAME_DELIMS); name !== undefined; [name, pos] = strtok(s, pos, NAME_DELIMS)) {
    if (withBands && name in FLAG_WORDS) {
      flags |= FLAG_WORDS[name];
      continue;
    }
    let value: string | undefined;
    [value, pos] = strtok(s, pos, VALUE_DELIMS);
    if (value === undefined) fail(`field ${name} missing value`);
    if (name !== 'meter') fail(`unknown keyword ${name}`);
    const named: Record<string, number> = { all: OFPM_ALL, controller: OFPM_CONTROLLER, slowpath: OFPM_SLOWPATH };
    if (value in named) meterId = named[value];
    else {
      meterId = strToU32(value);
      if (meterId > OFPM_MAX || !meterId) fail(`invalid value for ${name}`);
    }
  }
  if (!meterId) fail("must specify 'meter'");
  if (withBands && !flags) fail("meter must specify either 'kbps' or 'pktps'");

  const bands: { type: number; rate: number; burst_size: number; prec_level: number }[] = [];
  if (withBands) {
    for (let [name, pos] = strtok(bandText, 0, NAME_DELIMS); name !== undefined; [name, pos] = strtok(bandText, pos, NAME_DELIMS)) {
      let value: string | undefined;
      [value, pos] = strtok(bandText, pos, VALUE_DELIMS);
      if (value === undefined) fail(`field ${name} missing value`);
      const band = bands[bands.length - 1];
      if (name === 'type') {
        const type = value === 'drop' ? OFPMBT_DROP : value === 'dscp_remark' ? OFPMBT_DSCP_REMARK : 0;
        bands.push({ type, rate: 0, burst_size: 0, prec_level: 0 });
        if (!type) fail(`field ${name} unknown value ${value}`);
      } else if (!band) {
        fail("band must start with the 'type' keyword");
      } else if (name === 'rate') {
        band.rate = strToU32(value);
      } else if (name === 'burst_size') {
        band.burst_size = strToU32(value);
      } else if (name === 'prec_level') {
        band.prec_level = strToU8(value, name);
      } else {
        fail(`unknown keyword ${name}`);
      }
    }
    if (!bands.length) fail('meter must have bands');
    for (const band of bands) {
      if (band.type === OFPMBT_DSCP_REMARK) {
        if (!band.prec_level) fail("'dscp_remark' band must have 'prec_level'");
      } else if (band.prec_level) {
        fail("Only 'dscp_remark' band may have 'prec_level'");
      }
      if (!band.rate) fail("band must have 'rate'");
      if (flags & OFPMF.BURST) {
        if (!band.burst_size) fail("band must have 'burst_size' when 'burst' flag is set");
      } else if (band.burst_size) {
        fail("band may have 'burst_size' only when 'burst' flag is set");
      }
    }
  }
  return { meter: { command, meter_id: meterId, flags, bands }, usable: P_OF13_UP };
}

/** Parses a meter in ovs-ofctl syntax (see parseMeterModText). */
export function parseMeterMod(text: string, command: MeterCommand = 'add'): TextMeterMod {
  return parseMeterModText(text, command).meter;
}

// ---------------------------------------------------------------- to and from the wire

function bandToWire(b: TextMeterBand): MeterBand {
  if (b.type === OFPMBT_DROP) return { type: OFPMBT_DROP, rate: b.rate, burst_size: b.burst_size };
  if (b.type === OFPMBT_DSCP_REMARK) return { type: OFPMBT_DSCP_REMARK, rate: b.rate, burst_size: b.burst_size, prec_level: b.prec_level };
  throw new RangeError(`meter band type ${b.type} has no encoding`);
}

/** The METER_MOD a meter mod becomes in `version` (4-6); a delete carries no flags, as OVS sends it. */
export function meterModMessage(m: TextMeterMod, version: number, xid = 1): OfMessage {
  if (version < 4) throw new RangeError(`meters need OpenFlow 1.3 or later, not version ${version}`);
  const body: MeterMod = {
    command: METER_COMMANDS[m.command], flags: m.command === 'delete' ? 0 : m.flags, meter_id: m.meter_id, bands: m.bands.map(bandToWire),
  };
  return { version, xid, kind: 'METER_MOD', body };
}

/** Bands decoded from the wire (unknown types keep their number; rate and burst are read from their first 8 bytes). */
export function bandsFromWire(bands: readonly MeterBand[]): TextMeterBand[] {
  return bands.map((b) => {
    if ('raw' in b) {
      const dv = new DataView(b.data.buffer, b.data.byteOffset, b.data.byteLength);
      const word = (o: number) => (b.data.length >= o + 4 ? dv.getUint32(o) : 0);
      return { type: b.type, rate: word(0), burst_size: word(4), prec_level: 0 };
    }
    return { type: b.type, rate: b.rate, burst_size: b.burst_size, prec_level: 'prec_level' in b ? b.prec_level : 0 };
  });
}

/** A decoded METER_MOD message as a TextMeterMod. */
export function meterModFromWire(msg: OfMessage): TextMeterMod {
  if (msg.kind !== 'METER_MOD') throw new RangeError(`not a METER_MOD: ${msg.kind}`);
  const b = msg.body;
  const command = (Object.keys(METER_COMMANDS) as MeterCommand[]).find((c) => METER_COMMANDS[c] === b.command);
  if (!command) throw new OfError('OFPMMFC_BAD_COMMAND', `meter command ${b.command}`);
  // A delete's flags and bands mean nothing; a meter cannot count both bits and packets.
  if (command === 'delete') return { command, meter_id: b.meter_id, flags: 0, bands: [] };
  if (b.flags & OFPMF.KBPS && b.flags & OFPMF.PKTPS) throw new OfError('OFPMMFC_BAD_FLAGS', 'meter flags kbps and pktps together');
  const bands = bandsFromWire(b.bands);
  if (bands.some((x) => x.type !== OFPMBT_DROP && x.type !== OFPMBT_DSCP_REMARK)) throw new OfError('OFPMMFC_BAD_BAND', 'meter band type');
  return { command, meter_id: b.meter_id, flags: b.flags, bands };
}

// ---------------------------------------------------------------- printing

/** "meter=1", "meter:all"…: how OVS names a meter id. */
export function formatMeterId(id: number, sep = '='): string {
  if (id <= OFPM_MAX) return `meter${sep}${id}`;
  const name = id === OFPM_SLOWPATH ? 'slowpath' : id === OFPM_CONTROLLER ? 'controller' : id === OFPM_ALL ? 'all' : 'unknown';
  return `meter${sep}${name}`;
}

/**
 * A meter's configuration as ovs-ofctl prints it (dump-meters entries, the
 * body of meter mods), bands one per line, ending in a newline:
 * `meter=1 kbps burst bands=\ntype=drop rate=1000 burst_size=100\n`.
 */
export function formatMeter(m: Pick<TextMeterMod, 'meter_id' | 'flags' | 'bands'>): string {
  let s = formatMeterId(m.meter_id) + ' ';
  if (m.flags & OFPMF.KBPS) s += 'kbps ';
  if (m.flags & OFPMF.PKTPS) s += 'pktps ';
  if (m.flags & OFPMF.BURST) s += 'burst ';
  if (m.flags & OFPMF.STATS) s += 'stats ';
  const rest = m.flags & ~0xf;
  if (rest) s += `flags:0x${rest.toString(16)} `;
  s += 'bands=';
  for (const b of m.bands) {
    s += '\ntype=' + (b.type === OFPMBT_DROP ? 'drop' : b.type === OFPMBT_DSCP_REMARK ? 'dscp_remark' : String(b.type));
    s += ` rate=${b.rate}`;
    if (m.flags & OFPMF.BURST) s += ` burst_size=${b.burst_size}`;
    if (b.type === OFPMBT_DSCP_REMARK) s += ` prec_level=${b.prec_level}`;
  }
  return s + '\n';
}

/** The body ovs-ofctl prints for a meter mod: " ADD meter=1 kbps bands=\n…" (after the message name). */
export function formatMeterMod(m: TextMeterMod): string {
  const name = { add: 'ADD', modify: 'MOD', delete: 'DEL' }[m.command];
  return ` ${name} ` + formatMeter(m);
}

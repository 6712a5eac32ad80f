// The Geneve TLV mapping table (tun_metadata0-63) as OVS bounds it, and the
// "{class=C,type=T,len=L}->tun_metadataN" text of ovs-ofctl add-tlv-map and
// del-tlv-map. The wire layout of NXT_TLV_TABLE_MOD/REQUEST/REPLY is the
// field table in nicira2.ts; this file holds the rules every reader of those
// messages applies (OVS's decode_tlv_table_mappings), so the switch and the
// printer reject the same messages with the same error.

import { OfError, type OfErrorName } from './errors.js';
import type { TlvMap } from './nicira2.js';
import { FlowSyntaxError } from './text/errors.js';

/** How many tun_metadata fields exist (TUN_METADATA_NUM_OPTS). */
export const TLV_MAX_FIELDS = 64;
/** Bytes of option data all mapped options may take together (TUN_METADATA_TOT_OPT_SIZE). */
export const TLV_MAX_OPTION_SPACE = 256;
/** Largest body of one Geneve option: a 5-bit count of 4-byte words, less the header word. */
export const TLV_MAX_OPT_SIZE = 124;

/** NXT_TLV_TABLE_MOD commands. */
export type TlvTableCommand = 0 | 1 | 2;

/**
 * Why a list of mappings cannot be read, checked in order as OVS does (for
 * each mapping: its length, then its index), or undefined when all are fine.
 * `maxFields` is 64 for a mod and the reply's own max_fields for a reply.
 */
export function tlvMappingsProblem(maps: readonly TlvMap[], maxFields = TLV_MAX_FIELDS):
  { error: OfErrorName; warning: string } | undefined {
  for (const m of maps) {
    if (m.option_len % 4 !== 0 || m.option_len > TLV_MAX_OPT_SIZE) {
      return { error: 'NXTTMFC_BAD_OPT_LEN', warning: `tlv table option length (${m.option_len}) is not a valid option size` };
    }
    if (m.index >= maxFields) {
      return { error: 'NXTTMFC_BAD_FIELD_IDX', warning: `tlv table field index (${m.index}) is too large (max ${maxFields - 1})` };
    }
  }
  return undefined;
}

/** The checks of ofputil_decode_tlv_table_mod: a known command, then sound mappings. Throws OfError. */
export function checkTlvTableMod(body: { command: number; maps: readonly TlvMap[] }): void {
  if (body.command > 2) throw new OfError('NXTTMFC_BAD_COMMAND', `tlv table mod command (${body.command}) is out of range`);
  const p = tlvMappingsProblem(body.maps);
  if (p) throw new OfError(p.error, p.warning);
}

// ---------------------------------------------------------------- text

const SPACE = ' \t\n\v\f\r';

/**
 * One "%i" of OVS's ovs_scan: optional blanks and sign, then hex (0x), octal
 * (leading 0) or decimal digits; the value wraps to `bits` as C's narrowing
 * store does. Returns [value, next position], or undefined with no digits.
 */
function scanInt(s: string, pos: number, bits: number): [number, number] | undefined {
  let p = pos;
  while (p < s.length && SPACE.includes(s[p])) p++;
  const negative = s[p] === '-';
  if (s[p] === '-' || s[p] === '+') p++;
  let base = 10;
  if (s[p] === '0' && (s[p + 1] === 'x' || s[p + 1] === 'X')) {
    base = 16;
    p += 2;
  } else if (s[p] === '0') {
    base = 8;
  }
  let value = 0n;
  const start = p;
  for (; p < s.length; p++) {
    const d = parseInt(s[p], 16);
    if (Number.isNaN(d) || d >= base) break;
    value = value * BigInt(base) + BigInt(d);
  }
  if (p === start) return undefined;
  return [Number(BigInt.asUintN(bits, negative ? -value : value)), p];
}

/**
 * The mappings of add-tlv-map / del-tlv-map text (parse_ofp_tlv_table_mod_str):
 * "{class=C,type=T,len=L}->tun_metadataN" entries separated by commas, numbers
 * in C's %i syntax. Throws FlowSyntaxError("invalid tlv mapping").
 */
export function parseTlvMappings(text: string): TlvMap[] {
  const maps: TlvMap[] = [];
  let pos = 0;
  const literal = (lit: string): void => {
    if (!text.startsWith(lit, pos)) throw new FlowSyntaxError('invalid tlv mapping');
    pos += lit.length;
  };
  const int = (bits: number): number => {
    const r = scanInt(text, pos, bits);
    if (!r) throw new FlowSyntaxError('invalid tlv mapping');
    pos = r[1];
    return r[0];
  };
  while (pos < text.length) {
    if (text[pos] === ',') pos++;
    literal('{class=');
    const option_class = int(16);
    literal(',type=');
    const option_type = int(8);
    literal(',len=');
    const option_len = int(8);
    literal('}->tun_metadata');
    const index = int(16);
    maps.push({ option_class, option_type, option_len, index });
  }
  return maps;
}

/** The text of one mapping, as add-tlv-map reads it back. */
export function formatTlvMapping(m: TlvMap): string {
  return `{class=0x${m.option_class.toString(16)},type=${m.option_type},len=${m.option_len}}->tun_metadata${m.index}`;
}

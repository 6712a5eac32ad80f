// Small text helpers shared by the printers: hex dumps, bit-name lists,
// durations and port numbers, each in the exact form ovs-ofctl prints.

/** A hex dump, 16 bytes a line, with the offset column and (optionally) the ASCII column. */
export function hexDump(buf: Uint8Array, ascii = true, offset = 0): string {
  let out = '';
  let ofs = offset;
  let i = 0;
  while (i < buf.length) {
    const start = ofs % 16;
    const end = Math.min(16, start + (buf.length - i));
    let line = (ofs - start).toString(16).padStart(8, '0') + '  ' + '   '.repeat(start);
    for (let k = start; k < end; k++) line += hex2(buf[i + k - start]) + (k === 7 ? '-' : ' ');
    if (ascii) {
      line += '   '.repeat(16 - end) + '|' + ' '.repeat(start);
      for (let k = start; k < end; k++) {
        const c = buf[i + k - start];
        line += c >= 32 && c < 127 ? String.fromCharCode(c) : '.';
      }
      line += ' '.repeat(16 - end) + '|';
    } else {
      line = line.replace(/ +$/, '');
    }
    out += line + '\n';
    ofs += end - start;
    i += end - start;
  }
  return out;
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function hex(n: number | bigint): string {
  return '0x' + n.toString(16);
}

/** Names of the set bits, lowest first, separated; leftover bits as hex; "0" for none. */
export function bitNames(bits: number, name: (bit: number) => string | undefined, sep = ' '): string {
  if (!bits) return '0';
  const parts: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i++) {
    const bit = (1 << i) >>> 0;
    if (rest & bit) {
      const n = name(bit);
      if (n) {
        parts.push(n);
        rest = (rest & ~bit) >>> 0;
      }
    }
  }
  if (rest) parts.push(hex(rest));
  return parts.join(sep);
}

/** Bit names from a table indexed by bit number. */
export function bitTable(table: readonly (string | undefined)[]): (bit: number) => string | undefined {
  return (bit) => table[31 - Math.clz32(bit)];
}

/** Seconds with as many decimals as the nanoseconds need (3 when they are whole milliseconds). */
export function duration(sec: number, nsec: number): string {
  let s = String(sec);
  if (nsec > 0) {
    if (nsec % 1_000_000 === 0) s += '.' + String(nsec / 1_000_000).padStart(3, '0');
    else s += '.' + String(nsec).padStart(9, '0').replace(/0+$/, '');
  }
  return s + 's';
}

const RESERVED_PORTS: Record<number, string> = {
  0xfff7: 'UNSET', 0xfff8: 'IN_PORT', 0xfff9: 'TABLE', 0xfffa: 'NORMAL', 0xfffb: 'FLOOD', 0xfffc: 'ALL',
  0xfffd: 'CONTROLLER', 0xfffe: 'LOCAL', 0xffff: 'ANY',
};

/** An OF1.1+ 32-bit port number in OVS's 16-bit port space (reserved ports move down). */
export function port16(p: number, version: number): number {
  if (version === 1) return p;
  if (p >= 0xffffff00) return p - 0xffff0000;
  return p;
}

/** A port as ovs-ofctl writes it: reserved ports by name, others as a number. */
export function portName(p: number, version: number, names?: ReadonlyMap<number, string>): string {
  const n = port16(p, version);
  const r = RESERVED_PORTS[n];
  if (r) return r;
  const named = names?.get(n);
  if (named !== undefined) return named;
  return String(n);
}

/** Text up to the first non-printable character, as OVS cuts port names. */
export function printablePrefix(s: string): string {
  let j = 0;
  while (j < s.length && s.charCodeAt(j) >= 32 && s.charCodeAt(j) < 127) j++;
  return s.slice(0, j);
}

/** Bytes as ds_put_printable writes them (octal escapes for the unprintable, quotes and backslashes). */
export function printable(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c < 0x20 || c > 0x7e || c === 0x5c || c === 0x22 ? '\\' + c.toString(8).padStart(3, '0') : String.fromCharCode(c);
  return s;
}

export function u64(n: bigint): string {
  return BigInt.asUintN(64, n).toString();
}

/** A body printer that finds the message invalid the way OVS's decoder does (after printing `partial`). */
export class PrintError extends Error {
  constructor(readonly error: string, readonly partial = '') {
    super(error);
  }
}

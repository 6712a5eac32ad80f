// What every tsw-ofctl command shares: the options, the fatal error (printed
// as "tsw-ofctl: MESSAGE", exit 1), the output streams and the protocol sets.

import { PROTOCOL_BITS, P_ANY, protocolBitName } from '../../openflow/index.js';

export const PROGRAM = 'tsw-ofctl';

/** A fatal error: main prints `PROGRAM: message` and exits with `status`. */
export class OfctlError extends Error {
  constructor(message: string, readonly status = 1) {
    super(message);
  }
}

export function fatal(msg: string): never {
  throw new OfctlError(msg);
}

/** errno names as strerror(3) words them, for "(…)" suffixes. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory', ECONNREFUSED: 'Connection refused', ECONNRESET: 'Connection reset by peer',
  EACCES: 'Permission denied', EPIPE: 'Broken pipe', EOF: 'End of file', EPROTO: 'Protocol error', ETIMEDOUT: 'Connection timed out',
  EAFNOSUPPORT: 'Address family not supported by protocol', EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable',
  EINVAL: 'Invalid argument', ENOTSOCK: 'Socket operation on non-socket', EISDIR: 'Is a directory', ENOTDIR: 'Not a directory',
  EADDRINUSE: 'Address already in use', EMSGSIZE: 'Message too long',
};

export function strerror(code: string | undefined, fallback = 'Unknown error'): string {
  return (code && STRERROR[code]) ?? fallback;
}

/** An errno-carrying failure of a connection (the C side's `int error`). */
export class ErrnoError extends Error {
  constructor(readonly code: string, message?: string) {
    super(message ?? strerror(code, code));
  }
}

/** OVS's run(): a failed step is fatal with "MESSAGE (strerror)". */
export async function run<T>(p: Promise<T>, message: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ErrnoError) fatal(`${message} (${strerror(e.code, e.message)})`);
    throw e;
  }
}

export type SortField = { field: string | undefined; ascending: boolean };

export interface OfctlOptions {
  verbosity: number;
  raw: boolean;
  /** --names / --no-names; undefined: accept names, show them only on a terminal. */
  names: boolean | undefined;
  /** The -O words as given (OpenFlow10...), kept for the offline parse commands. */
  protocols: string[];
  /** Bitmap of allowed OpenFlow versions (bit 1 = OF1.0), after -F narrowing. */
  versions: number;
  /** Allowed protocol bits (-F, narrowed to the versions). */
  allowed: number;
  timestamp: boolean;
  strict: boolean;
  readd: boolean;
  bundle: boolean;
  mayCreate: boolean;
  stats: boolean;
  sort: SortField[];
  timeout: number;
  unixctl: string | undefined;
  packetInFormat: string | undefined;
  /** Whether stdout is a terminal (names are shown then unless --no-names). */
  tty: boolean;
}

export function defaultOptions(): OfctlOptions {
  return {
    verbosity: 0, raw: false, names: undefined, protocols: [], versions: 1 << 1, allowed: P_ANY, timestamp: false, strict: false,
    readd: false, bundle: false, mayCreate: false, stats: true, sort: [], timeout: 0, unixctl: undefined, packetInFormat: undefined,
    tty: false,
  };
}

export interface Output {
  out: (s: string) => void;
}

/** Both streams, for the online commands (errors of flow mods go to stderr). */
export interface Io extends Output {
  err: (s: string) => void;
}

export const P = PROTOCOL_BITS;
export const P_OF10_ANY = P.OF10_STD | P.OF10_STD_TID | P.OF10_NXM | P.OF10_NXM_TID;
export const P_OF13_UP = P.OF13_OXM | P.OF14_OXM | P.OF15_OXM;
export const P_ANY_OXM = P.OF12_OXM | P.OF13_OXM | P.OF14_OXM | P.OF15_OXM;

/** The protocol bits an OpenFlow version can use. */
export function protocolsOfVersion(v: number): number {
  return v === 1 ? P_OF10_ANY : v === 2 ? P.OF11_STD : v === 3 ? P.OF12_OXM : v === 4 ? P.OF13_OXM : v === 5 ? P.OF14_OXM : v === 6 ? P.OF15_OXM : 0;
}

export function protocolsOfVersionBitmap(bitmap: number): number {
  let p = 0;
  for (let v = 1; v <= 6; v++) if (bitmap & (1 << v)) p |= protocolsOfVersion(v);
  return p;
}

export function versionBitmapOfProtocols(protocols: number): number {
  let b = 0;
  for (let v = 1; v <= 6; v++) if (protocols & protocolsOfVersion(v)) b |= 1 << v;
  return b;
}

/** The protocol a fresh connection of version v speaks (OF1.0: standard matches, no table ids). */
export function protocolOfVersion(v: number): number {
  return v === 1 ? P.OF10_STD : protocolsOfVersion(v);
}

/** "OpenFlow10, OpenFlow13" — ofputil_format_version_bitmap_names. */
export function versionBitmapNames(bitmap: number): string {
  const out: string[] = [];
  for (let v = 1; v <= 6; v++) if (bitmap & (1 << v)) out.push(`OpenFlow1${v - 1}`);
  return out.join(', ');
}

/** -F: protocol names and the abbreviations any, OpenFlow10, NXM, OXM (ofputil_protocols_from_string). */
export function protocolsFromString(s: string): number {
  const abbrevs: Record<string, number> = {
    any: P_ANY, openflow10: P.OF10_STD | P.OF10_STD_TID, nxm: P.OF10_NXM | P.OF10_NXM_TID, oxm: P_ANY_OXM,
  };
  let set = 0;
  for (const part of s.split(',')) {
    if (!part) continue;
    let bit = 0;
    for (let i = 0; i < 9 && !bit; i++) if (protocolBitName(1 << i).toLowerCase() === part.toLowerCase()) bit = 1 << i;
    bit ||= abbrevs[part.toLowerCase()] ?? 0;
    if (!bit) fatal(`${part}: unknown flow protocol`);
    set |= bit;
  }
  if (!set) fatal(`${s}: no flow protocol specified`);
  return set;
}

/** -O: "OpenFlow10,OpenFlow13" (commas or blanks between) as a version bitmap. */
export function versionsFromString(s: string): number {
  let bitmap = 0;
  for (const word of s.split(/[\s,]+/)) {
    if (!word) continue;
    const m = /^openflow1([0-5])$/i.exec(word);
    if (!m) fatal(`Unknown OpenFlow version: "${word}"`);
    bitmap |= 1 << (Number(m[1]) + 1);
  }
  return bitmap;
}

/** Shows names when asked to, or on a terminal unless told not to (should_show_names). */
export function showNames(o: OfctlOptions): boolean {
  return o.names === true || (o.names === undefined && o.tty);
}

/** Accepts names unless --no-names (should_accept_names). */
export function acceptNames(o: OfctlOptions): boolean {
  return o.names !== false;
}

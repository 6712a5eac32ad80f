// Record framing of OVSDB database files (ovsdb(5)): every record is a header
// line `OVSDB <magic> <length> <sha1>\n` followed by <length> bytes of body,
// one JSON object; the SHA-1 covers exactly the body bytes.
import { createHash } from 'node:crypto';

export const STANDALONE_MAGIC = 'JSON';

/** OVS reads the header with a 128-byte fgets, so a longer line never parses. */
const MAX_HEADER = 127;

/** The body exactly as OVS writes it: compact JSON on one line, ending in LF. */
export function composeRecord(json: object, magic = STANDALONE_MAGIC): Buffer {
  const text = JSON.stringify(json) + '\n';
  const bodyLen = Buffer.byteLength(text);
  // One buffer for header and body so the record goes out in one write(2).
  const headerLen = `OVSDB ${magic} ${bodyLen} `.length + 40 + 1;
  const out = Buffer.allocUnsafe(headerLen + bodyLen);
  out.write(text, headerLen, 'utf8');
  const sha1 = createHash('sha1').update(out.subarray(headerLen)).digest('hex');
  out.write(`OVSDB ${magic} ${bodyLen} ${sha1}\n`, 0, 'latin1');
  return out;
}

/** A record around a body that is already serialized (kept byte for byte). */
export function frameRecord(body: Buffer, magic = STANDALONE_MAGIC): Buffer {
  const sha1 = createHash('sha1').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`OVSDB ${magic} ${body.length} ${sha1}\n`, 'latin1'), body]);
}

export interface LogRecord {
  /** Offset of the header line. */
  offset: number;
  /** Offset just past the body: where the next record starts. */
  end: number;
  /** The raw body bytes (including the trailing LF, if any). */
  body: Buffer;
  json: Record<string, unknown>;
}

export interface LogScan {
  records: LogRecord[];
  /** End of the last good record; equals the buffer length when nothing is wrong. */
  goodEnd: number;
  /** Why reading stopped before the end of the data, if it did. */
  error?: string;
}

const HEADER_RE = /^OVSDB ([^ \n]+) ([0-9]+) ([0-9a-fA-F]{40})$/;

/**
 * Splits a log into records. Reading stops at the first record that is
 * malformed (bad header, short body, SHA-1 mismatch, body not a JSON object);
 * `goodEnd` and `error` then say where and why.
 */
export function scanLog(buf: Buffer, name: string, magic = STANDALONE_MAGIC): LogScan {
  const records: LogRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    const fail = (why: string): LogScan => ({ records, goodEnd: off, error: why });
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0 || nl - off > MAX_HEADER - 1) {
      const shown = buf.subarray(off, Math.min(nl < 0 ? buf.length : nl, off + MAX_HEADER)).toString('latin1');
      return fail(`${name}: parse error at offset ${off} in header line ${JSON.stringify(shown)}`);
    }
    const header = buf.subarray(off, nl).toString('latin1');
    const m = HEADER_RE.exec(header);
    const length = m ? Number(m[2]) : 0;
    if (!m || m[1] !== magic || !Number.isSafeInteger(length) || length <= 0) {
      return fail(`${name}: parse error at offset ${off} in header line ${JSON.stringify(header)}`);
    }
    const start = nl + 1;
    if (start + length > buf.length) {
      return fail(`${name}: error reading ${length} bytes starting at offset ${start} (end of file after ${buf.length - start})`);
    }
    const body = buf.subarray(start, start + length);
    const actual = createHash('sha1').update(body).digest('hex');
    const expected = m[3]!.toLowerCase();
    if (actual !== expected) {
      return fail(
        `${name}: ${length} bytes starting at offset ${start} have SHA-1 hash ${actual} but should have hash ${expected}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return fail(`${name}: ${length} bytes starting at offset ${start} are not valid JSON (${(e as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return fail(`${name}: ${length} bytes starting at offset ${start} are not a JSON object`);
    }
    records.push({ offset: off, end: start + length, body, json: json as Record<string, unknown> });
    off = start + length;
  }
  return { records, goodEnd: off };
}

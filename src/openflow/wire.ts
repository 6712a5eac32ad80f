// The field-table machinery: a wire format is described once as a table of
// typed fields (a Codec per field), and that one description drives both the
// encoder and the decoder. Decoding is bounded by a Reader that never looks
// past its end and throws a typed OfError naming what was expected.

import { Buffer } from 'node:buffer';
import { OfError, type OfErrorName } from './errors.js';

/** A bounded cursor over received bytes. `lenError` is what running short means here. */
export class Reader {
  readonly dv: DataView;
  /** `dv` must view exactly `buf`; readers over one message pass it on (a DataView per element was the decoder's top cost). */
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly lenError: OfErrorName = 'OFPBRC_BAD_LEN',
    dv?: DataView,
  ) {
    this.dv = dv ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  static of(buf: Uint8Array, lenError: OfErrorName = 'OFPBRC_BAD_LEN'): Reader {
    return new Reader(buf, 0, buf.length, lenError);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Reserves `n` bytes and returns where they start, or throws the length error. */
  take(n: number, what = 'field'): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new OfError(this.lenError, `${what} needs ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** A reader over the next `n` bytes (consumed here), optionally with another length error. */
  sub(n: number, lenError: OfErrorName = this.lenError, what = 'element'): Reader {
    // Running short here is a fault of the element being read, so it carries the element's error.
    if (n < 0 || this.pos + n > this.end) {
      throw new OfError(lenError, `${what} needs ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} left`);
    }
    const at = this.pos;
    this.pos += n;
    return new Reader(this.buf, at, at + n, lenError, this.dv);
  }

  u8(): number { return this.dv.getUint8(this.take(1)); }
  u16(): number { return this.dv.getUint16(this.take(2)); }
  u32(): number { return this.dv.getUint32(this.take(4)); }
  u64(): bigint { return this.dv.getBigUint64(this.take(8)); }
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    // A plain copy: Buffer.slice would alias the input and make a Buffer.
    return new Uint8Array(this.buf.subarray(at, at + n));
  }

  /** Throws unless every byte was consumed (fixed-size bodies must match exactly). */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new OfError(this.lenError, `${what}: ${this.end - this.pos} unexpected trailing bytes`);
    }
  }
}

/** A cursor over an exactly-sized output buffer (sizes are computed before writing). */
export class Writer {
  readonly buf: Uint8Array;
  pos = 0;
  private view: DataView | undefined;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  /** Made on first use: most messages are written with byte stores alone (a DataView per message showed in profiles). */
  get dv(): DataView {
    return (this.view ??= new DataView(this.buf.buffer));
  }
  // Byte stores past the end would be dropped silently, so each write checks the bound (DataView used to throw).
  u8(v: number): void {
    if (this.pos >= this.buf.length) this.overflow(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    const b = this.buf;
    const p = this.pos;
    if (p + 2 > b.length) this.overflow(2);
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }
  u32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    if (p + 4 > b.length) this.overflow(4);
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }
  u64(v: bigint): void { this.dv.setBigUint64(this.pos, v); this.pos += 8; }
  bytes(b: Uint8Array): void { this.buf.set(b, this.pos); this.pos += b.length; }
  zeros(n: number): void { this.pos += n; } // the buffer starts zeroed
  private overflow(n: number): never {
    throw new RangeError(`writing ${n} bytes at offset ${this.pos} overruns the ${this.buf.length}-byte buffer`);
  }
}

/**
 * One wire element. Method syntax (not function-typed properties) keeps
 * Codec<number> assignable to Codec<unknown>, so tables can mix field types.
 */
export interface Codec<T> {
  read(r: Reader): T;
  write(w: Writer, v: T): void;
  size(v: T): number;
  /** Set when every value encodes to the same number of bytes. */
  readonly fixed?: number;
  /** What values look like, for generators and printers (tests derive fast-check arbitraries from it). */
  readonly shape?: Shape;
}

/**
 * A description of a codec's value, derived from the same tables. `named`
 * marks leaves with constraints a generic generator cannot know (matches,
 * OXM entries); the rest is structural.
 */
export type Shape =
  | { readonly t: 'uint'; readonly bits: 8 | 16 | 32; readonly max?: number }
  | { readonly t: 'u64' }
  | { readonly t: 'mac' }
  | { readonly t: 'ipv4' }
  | { readonly t: 'bytes'; readonly len: number }
  /** Opaque trailing bytes; when `mod` is set their length is `rem` modulo `mod` (to keep 8-byte alignment). */
  | { readonly t: 'rest'; readonly mod?: number; readonly rem?: number }
  | { readonly t: 'str'; readonly len: number }
  | { readonly t: 'struct'; readonly fields: ReadonlyArray<readonly [string, Shape]> }
  | { readonly t: 'list'; readonly item: Shape; readonly unique?: string }
  /** TLVs whose numeric `type` selects a body; other types are raw ({type, data, raw: true}). */
  | { readonly t: 'tlvs'; readonly known: ReadonlyArray<readonly [number, Shape]>; readonly rawMod: number }
  /** One of several layouts; the value is the tag's fields plus the layout's. */
  | { readonly t: 'union'; readonly options: ReadonlyArray<{ readonly tag: Readonly<Record<string, unknown>>; readonly shape: Shape }> }
  | { readonly t: 'named'; readonly name: string; readonly version?: number };

/** Fields that occupy wire bytes but carry no value of their own (padding, computed lengths and counts, constants). */
export interface HiddenCodec extends Codec<undefined> {
  readonly hidden: 'pad' | 'length' | 'lengthOf' | 'const';
  /** lengthOf: the field whose size (or element count) this one holds. */
  readonly target?: string;
  readonly width?: 1 | 2 | 4;
  /** lengthOf: the target is followed by zeros up to this alignment (not counted). */
  readonly align?: number;
  /** lengthOf: counts elements instead of bytes. */
  readonly count?: boolean;
}

export type ValueOf<C> = C extends Codec<infer T> ? T : never;

export function encode<T>(codec: Codec<T>, v: T): Uint8Array {
  const w = new Writer(codec.size(v));
  codec.write(w, v);
  return w.buf;
}

/** Decodes exactly `buf` (trailing bytes are an error). */
export function decode<T>(codec: Codec<T>, buf: Uint8Array, lenError: OfErrorName = 'OFPBRC_BAD_LEN'): T {
  const r = Reader.of(buf, lenError);
  const v = codec.read(r);
  r.expectEnd('value');
  return v;
}

function checkUint(v: number, bits: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new RangeError(`${what}: ${v} is not an unsigned ${bits}-bit integer`);
  }
}

// One codec per width, each with its own straight-line read and write (these run for most wire fields).
export const u8: Codec<number> = {
  shape: { t: 'uint', bits: 8 },
  fixed: 1,
  size: () => 1,
  read: (r) => r.u8(),
  write: (w, v) => {
    if (typeof v !== 'number' || (v & 0xff) !== v) checkUint(v, 8, 'u8');
    w.u8(v);
  },
};
export const u16: Codec<number> = {
  shape: { t: 'uint', bits: 16 },
  fixed: 2,
  size: () => 2,
  read: (r) => r.u16(),
  write: (w, v) => {
    if (typeof v !== 'number' || (v & 0xffff) !== v) checkUint(v, 16, 'u16');
    w.u16(v);
  },
};
export const u32: Codec<number> = {
  shape: { t: 'uint', bits: 32 },
  fixed: 4,
  size: () => 4,
  read: (r) => r.u32(),
  write: (w, v) => {
    if (typeof v !== 'number' || v >>> 0 !== v) checkUint(v, 32, 'u32');
    w.u32(v);
  },
};
export const u64: Codec<bigint> = {
  shape: { t: 'u64' },
  fixed: 8,
  size: () => 8,
  read: (r) => r.u64(),
  write: (w, v) => {
    if (v < 0n || v >= 1n << 64n) throw new RangeError(`u64: ${v} out of range`);
    w.u64(v);
  },
};

/** Ethernet address as lower-case "aa:bb:cc:dd:ee:ff". */
export const mac: Codec<string> = {
  shape: { t: 'mac' },
  fixed: 6,
  size: () => 6,
  read: (r) => macText(r.buf, r.take(6)),
  write: (w, v) => {
    // The usual 17-character form goes straight into the output; anything else takes the checking path.
    if (w.pos + 6 <= w.buf.length && macInto(v, w.buf, w.pos)) w.pos += 6;
    else w.bytes(macFromString(v));
  },
};

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function macText(b: Uint8Array, at: number): string {
  return `${HEX2[b[at]]}:${HEX2[b[at + 1]]}:${HEX2[b[at + 2]]}:${HEX2[b[at + 3]]}:${HEX2[b[at + 4]]}:${HEX2[b[at + 5]]}`;
}

export function macToString(b: Uint8Array): string {
  if (b.length === 6) return macText(b, 0);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Writes "xx:xx:xx:xx:xx:xx" (exactly two hex digits each) at `at`; false, writing nothing, for any other text. */
function macInto(s: string, out: Uint8Array, at: number): boolean {
  if (s.length !== 17) return false;
  for (let i = 2; i < 17; i += 3) if (s.charCodeAt(i) !== 58) return false;
  for (let i = 0; i < 17; i += 3) {
    if (hexDigit(s.charCodeAt(i)) < 0 || hexDigit(s.charCodeAt(i + 1)) < 0) return false;
  }
  for (let i = 0; i < 6; i++) out[at + i] = hexDigit(s.charCodeAt(3 * i)) * 16 + hexDigit(s.charCodeAt(3 * i + 1));
  return true;
}

export function macFromString(s: string): Uint8Array {
  const fast = new Uint8Array(6);
  if (typeof s === 'string' && macInto(s, fast, 0)) return fast;
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new RangeError(`mac: expected xx:xx:xx:xx:xx:xx, got ${JSON.stringify(s)}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** IPv4 address as dotted quad. */
export const ipv4: Codec<string> = {
  shape: { t: 'ipv4' },
  fixed: 4,
  size: () => 4,
  read: (r) => Array.from(r.bytes(4)).join('.'),
  write: (w, v) => {
    const parts = v.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
      throw new RangeError(`ipv4: expected a.b.c.d, got ${JSON.stringify(v)}`);
    }
    w.bytes(Uint8Array.from(parts));
  },
};

/** Fixed-length opaque bytes. */
export function bytes(len: number): Codec<Uint8Array> {
  return {
    shape: { t: 'bytes', len },
    fixed: len,
    size: () => len,
    read: (r) => r.bytes(len),
    write: (w, v) => {
      if (v.length !== len) throw new RangeError(`bytes(${len}): got ${v.length} bytes`);
      w.bytes(v);
    },
  };
}

/** Everything up to the end of the enclosing element (offending data, echo payloads). */
export const rest: Codec<Uint8Array> = restMod();

/** `rest` whose length is `rem` modulo `mod` in generated values (the wire accepts any length). */
export function restMod(mod?: number, rem = 0): Codec<Uint8Array> {
  return {
    shape: mod ? { t: 'rest', mod, rem } : { t: 'rest' },
    size: (v) => v.length,
    read: (r) => r.bytes(r.remaining),
    write: (w, v) => w.bytes(v),
  };
}

/** A NUL-padded fixed-size string (port names, descriptions), latin1 so every byte survives. */
export function str(len: number): Codec<string> {
  return {
    shape: { t: 'str', len },
    fixed: len,
    size: () => len,
    read: (r) => {
      const b = r.bytes(len);
      const nul = b.indexOf(0);
      return Buffer.from(b.subarray(0, nul < 0 ? len : nul)).toString('latin1');
    },
    write: (w, v) => {
      const b = Buffer.from(v, 'latin1');
      if (b.length > len || b.includes(0)) throw new RangeError(`str(${len}): ${JSON.stringify(v)} does not fit`);
      w.bytes(b);
      w.zeros(len - b.length);
    },
  };
}

/** `n` zero bytes on output; ignored on input. */
export function pad(n: number): HiddenCodec {
  return {
    hidden: 'pad',
    fixed: n,
    size: () => n,
    read: (r) => { r.take(n, 'padding'); return undefined; },
    write: (w) => w.zeros(n),
  };
}

/**
 * A u16 holding the byte length of the enclosing struct: computed on output,
 * and on input it bounds the rest of the struct.
 */
export const length16: HiddenCodec = {
  hidden: 'length',
  fixed: 2,
  size: () => 2,
  read: (r) => { r.take(2); return undefined; },
  write: (w) => w.zeros(2),
};

/**
 * A u8/u16/u32 holding the byte length (or, with `count`, the element count)
 * of the later field `target` of the same struct: computed when writing, and
 * when reading it bounds that field. `align` pads the target (uncounted).
 */
export function lengthOf(target: string, width: 1 | 2 | 4 = 2, opts: { align?: number; count?: boolean } = {}): HiddenCodec {
  return {
    hidden: 'lengthOf', target, width, align: opts.align, count: opts.count,
    fixed: width,
    size: () => width,
    read: (r) => { r.take(width); return undefined; },
    write: (w) => w.zeros(width),
  };
}

/** A field that always holds `value` (vendor ids and subtypes already used for dispatch). */
export function constant(width: 1 | 2 | 4, value: number): HiddenCodec {
  return {
    hidden: 'const',
    fixed: width,
    size: () => width,
    read: (r) => { r.take(width); return undefined; },
    write: (w) => {
      if (width === 1) w.u8(value);
      else if (width === 2) w.u16(value);
      else w.u32(value);
    },
  };
}

type FieldTable = Record<string, Codec<unknown>>;

/** The value type a field table describes: every field except the hidden ones. */
export type StructValue<F extends FieldTable> = {
  [K in keyof F as F[K] extends HiddenCodec ? never : K]: ValueOf<F[K]>;
};

export interface StructOptions {
  /** Pad the struct to a multiple of this many bytes; the padding is not counted by length16. */
  readonly align?: number;
  /** The error raised when this struct's own length is wrong. */
  readonly lenError?: OfErrorName;
  readonly what?: string;
}

function isHidden(c: Codec<unknown>): c is HiddenCodec {
  return 'hidden' in c;
}

export function padTo(n: number, align: number): number {
  return (n + align - 1) - ((n + align - 1) % align);
}

/**
 * A struct described by an ordered field table. Key order is wire order.
 * With a length16 field the struct is self-sized (a TLV-like record);
 * lengthOf fields size (or count) a later field and bound it when reading.
 */
/** What struct() returns: a codec that can also read into an object the caller started (a tagged union adds its tag first). */
export interface StructCodec<T> extends Codec<T> {
  readInto(r: Reader, out: Record<string, unknown>): T;
}

export function struct<F extends FieldTable>(fields: F, opts: StructOptions = {}): Codec<StructValue<F>> {
  const entries = Object.entries(fields);
  const what = opts.what ?? 'struct';
  const lenAt = entries.findIndex(([, c]) => isHidden(c) && c.hidden === 'length');
  // target field name -> the lengthOf codec that sizes it
  const sizedBy = new Map<string, HiddenCodec>();
  for (const [, c] of entries) if (isHidden(c) && c.hidden === 'lengthOf') sizedBy.set(c.target as string, c);
  let fixed: number | undefined = 0;
  for (const [, c] of entries) fixed = fixed !== undefined && c.fixed !== undefined ? fixed + c.fixed : undefined;
  if (fixed !== undefined && opts.align) fixed = padTo(fixed, opts.align);
  let minLen = 0;
  for (const [, c] of entries) if (c.fixed !== undefined) minLen += c.fixed;
  const lenError = opts.lenError;

  // The table as flat per-field arrays, so that reading and writing a record
  // walks plain arrays (no Map lookups, destructuring or `in` tests per field).
  const n = entries.length;
  const keys = entries.map(([k]) => k);
  const codecs = entries.map(([, c]) => c);
  const hidden = codecs.map((c) => isHidden(c));
  const lengthOfAt = codecs.map((c) => isHidden(c) && c.hidden === 'lengthOf');
  const by = keys.map((k) => sizedBy.get(k));
  const byAlign = by.map((h) => h?.align ?? 0);
  const fixedAt = codecs.map((c) => c.fixed);
  /** Index of the field each lengthOf sizes (-1 elsewhere). */
  const targetAt = codecs.map((c) => (isHidden(c) && c.hidden === 'lengthOf' ? keys.indexOf(c.target as string) : -1));
  const hasLengthOf = lengthOfAt.some(Boolean);
  // Every value field, in wire order, so that a read starts from an object of the final shape.
  const template: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) if (!hidden[i]) template[keys[i]] = undefined;
  /** Byte width of u8/u16/u32 fields not sized by a lengthOf, read and written inline (0 elsewhere). */
  const prim = codecs.map((c, i) => (by[i] ? 0 : c === u8 ? 1 : c === u16 ? 2 : c === u32 ? 4 : 0));
  // `fixed` leaves out the alignment of lengthOf targets, so only a struct without any may answer size() from it.
  const sizeIsFixed = fixed !== undefined && !byAlign.some(Boolean);

  const fieldSize = (i: number, v: unknown): number => {
    const f = fixedAt[i];
    const sz = f !== undefined ? f : codecs[i].size(v);
    return byAlign[i] ? padTo(sz, byAlign[i]) : sz;
  };
  const bodySize = (rec: Record<string, unknown>): number => {
    let sz = 0;
    for (let i = 0; i < n; i++) sz += fieldSize(i, hidden[i] ? undefined : rec[keys[i]]);
    return sz;
  };
  const shape: Shape = { t: 'struct', fields: entries.filter(([, c]) => !isHidden(c)).map(([k, c]) => [k, c.shape ?? { t: 'named', name: k }] as const) };

  const codec: StructCodec<StructValue<F>> = {
    shape,
    fixed,
    size(v) {
      if (sizeIsFixed) return fixed as number;
      const sz = bodySize(v as Record<string, unknown>);
      return opts.align ? padTo(sz, opts.align) : sz;
    },
    write(w, v) {
      const rec = v as Record<string, unknown>;
      const start = w.pos;
      for (let i = 0; i < n; i++) {
        const c = codecs[i];
        if (hidden[i]) {
          if (lengthOfAt[i]) {
            const h = c as HiddenCodec;
            const t = keys[targetAt[i]];
            const tv = rec[t];
            const x = h.count ? (tv as unknown[]).length : codecs[targetAt[i]].size(tv);
            if (x >= 2 ** (8 * (h.width as number))) throw new RangeError(`${what}: ${t} too long for its length field`);
            if (h.width === 1) w.u8(x);
            else if (h.width === 2) w.u16(x);
            else w.u32(x);
          } else {
            c.write(w, undefined);
          }
          continue;
        }
        const fv = rec[keys[i]];
        if (fv === undefined) throw new RangeError(`${what}: missing field ${keys[i]}`);
        const p = prim[i];
        if (p === 1) {
          if (typeof fv !== 'number' || (fv & 0xff) !== fv) checkUint(fv as number, 8, 'u8');
          w.u8(fv as number);
          continue;
        } else if (p === 2) {
          if (typeof fv !== 'number' || (fv & 0xffff) !== fv) checkUint(fv as number, 16, 'u16');
          w.u16(fv as number);
          continue;
        } else if (p === 4) {
          if (typeof fv !== 'number' || fv >>> 0 !== fv) checkUint(fv as number, 32, 'u32');
          w.u32(fv as number);
          continue;
        }
        const at = w.pos;
        c.write(w, fv);
        const align = byAlign[i];
        if (align) w.zeros(padTo(w.pos - at, align) - (w.pos - at));
      }
      // The written length is the body size (alignment padding comes after and is not counted).
      const sz = w.pos - start;
      if (lenAt >= 0) {
        let at = start;
        for (let i = 0; i < lenAt; i++) at += fieldSize(i, hidden[i] ? undefined : rec[keys[i]]);
        w.dv.setUint16(at, sz);
      }
      if (opts.align) w.zeros(padTo(sz, opts.align) - sz);
    },
    // Not through `this`: callers may hold read() detached from the codec.
    read: (r0) => readInto(r0, { ...template }),
    readInto,
  };
  function readInto(r0: Reader, out: Record<string, unknown>): StructValue<F> {
    // Lengths read from lengthOf fields, by the index of the field they size.
    const lengths: number[] | undefined = hasLengthOf ? new Array<number>(n) : undefined;
    const start = r0.pos;
    let r = lenError ? new Reader(r0.buf, r0.pos, r0.end, lenError, r0.dv) : r0;
    let total: number | undefined;
    for (let i = 0; i < n; i++) {
      const c = codecs[i];
      if (i === lenAt) {
        const at = r.take(2, `${what} length`);
        total = r.dv.getUint16(at);
        if (total < minLen || start + total > r.end) {
          throw new OfError(lenError ?? r.lenError, `${what}: length ${total} is outside ${minLen}..${r.end - start}`);
        }
        r = new Reader(r.buf, r.pos, start + total, r.lenError, r.dv);
        continue;
      }
      if (lengthOfAt[i]) {
        const h = c as HiddenCodec;
        const wd = h.width as number;
        const at = r.take(wd, `${what} ${h.target} length`);
        (lengths as number[])[targetAt[i]] = wd === 1 ? r.dv.getUint8(at) : wd === 2 ? r.dv.getUint16(at) : r.dv.getUint32(at);
        continue;
      }
      const sized = by[i];
      const p = prim[i];
      let v: unknown;
      if (p !== 0) {
        v = p === 1 ? r.u8() : p === 2 ? r.u16() : r.u32();
      } else if (sized === undefined) {
        v = c.read(r);
      } else if (sized.count) {
        const item = (c as ListCodec<unknown>).item;
        const cnt = (lengths as number[])[i];
        const xs: unknown[] = [];
        const before = r.pos;
        // Each element takes at least one byte, so a huge count fails at the end of the input.
        for (let j = 0; j < cnt; j++) xs.push(item.read(r));
        if (sized.align) r.take(padTo(r.pos - before, sized.align) - (r.pos - before), `${keys[i]} padding`);
        v = xs;
      } else {
        const len = (lengths as number[])[i];
        const sub = r.sub(len, r.lenError, `${what} ${keys[i]}`);
        v = c.read(sub);
        sub.expectEnd(`${what} ${keys[i]}`);
        if (sized.align) r.take(padTo(len, sized.align) - len, `${keys[i]} padding`);
      }
      if (!hidden[i]) out[keys[i]] = v;
    }
    if (total !== undefined) r.expectEnd(what);
    let consumed = r.pos - start;
    if (opts.align) {
      const padded = padTo(consumed, opts.align);
      // The last element of a list may omit its padding (OF1.4 properties allow it).
      consumed = Math.min(padded, r0.end - start);
    }
    r0.pos = start + consumed;
    return out as StructValue<F>;
  }
  return codec;
}

/** The struct codec's readInto, when `c` is one. */
export function readIntoOf(c: Codec<unknown>): StructCodec<unknown>['readInto'] | undefined {
  return (c as Partial<StructCodec<unknown>>).readInto;
}

export interface ListCodec<T> extends Codec<T[]> {
  readonly item: Codec<T>;
}

/** Elements repeated until the end of the enclosing element (or `count` of them, with lengthOf(…, {count})). */
export function list<T>(item: Codec<T>, what = 'list', opts: { unique?: string } = {}): ListCodec<T> {
  return {
    item,
    shape: { t: 'list', item: item.shape ?? { t: 'named', name: what }, ...(opts.unique ? { unique: opts.unique } : {}) },
    size: (v) => v.reduce((n, x) => n + item.size(x), 0),
    write: (w, v) => { for (const x of v) item.write(w, x); },
    read: (r) => {
      const out: T[] = [];
      while (r.remaining > 0) {
        const before = r.pos;
        out.push(item.read(r));
        // Every element consumes at least one byte, so the list is bounded by the input.
        if (r.pos === before) throw new OfError(r.lenError, `${what}: zero-length element`);
      }
      return out;
    },
  };
}

/** A codec whose value is mapped to and from another representation. */
export function mapped<W, T>(inner: Codec<W>, to: (w: W) => T, from: (v: T) => W, shape?: Shape): Codec<T> {
  return {
    shape,
    fixed: inner.fixed,
    size: (v) => inner.size(from(v)),
    read: (r) => to(inner.read(r)),
    write: (w, v) => inner.write(w, from(v)),
  };
}

/**
 * A TLV whose header is u16 type + u16 length (length counting the header,
 * not the alignment padding). Known types decode through their own codec;
 * unknown ones keep their payload bytes, so nothing is lost in a round trip.
 */
export interface RawTlv {
  readonly type: number;
  readonly data: Uint8Array;
}

export function tlvList<V extends { readonly type: number }>(
  known: ReadonlyMap<number, Codec<V>>,
  opts: { align: number; lenError: OfErrorName; what: string; raw: (t: RawTlv) => V; unraw: (v: V) => RawTlv | undefined },
): Codec<V[]> {
  const sizeOf = (v: V): number => {
    const raw = opts.unraw(v);
    const n = raw ? 4 + raw.data.length : 4 + (known.get(v.type) as Codec<V>).size(v);
    return padTo(n, opts.align);
  };
  return {
    shape: { t: 'tlvs', known: [...known].map(([t, c]) => [t, c.shape ?? { t: 'named', name: opts.what }] as const), rawMod: opts.align },
    size: (vs) => vs.reduce((n, v) => n + sizeOf(v), 0),
    write: (w, vs) => {
      for (const v of vs) {
        const raw = opts.unraw(v);
        const codec = known.get(v.type);
        if (!raw && !codec) throw new RangeError(`${opts.what}: no codec for type ${v.type}`);
        const n = raw ? 4 + raw.data.length : 4 + (codec as Codec<V>).size(v);
        w.u16(v.type);
        w.u16(n);
        if (raw) w.bytes(raw.data);
        else (codec as Codec<V>).write(w, v);
        w.zeros(padTo(n, opts.align) - n);
      }
    },
    read: (r) => {
      const out: V[] = [];
      while (r.remaining > 0) {
        const start = r.pos;
        const hdr = r.sub(4, opts.lenError, `${opts.what} header`);
        const type = hdr.u16();
        const len = hdr.u16();
        if (len < 4 || start + len > r.end) {
          throw new OfError(opts.lenError, `${opts.what}: length ${len} is outside 4..${r.end - start}`);
        }
        const body = r.sub(len - 4, opts.lenError, opts.what);
        const codec = known.get(type);
        if (codec) {
          const v = codec.read(body);
          body.expectEnd(`${opts.what} type ${type}`);
          out.push({ ...v, type });
        } else {
          out.push(opts.raw({ type, data: body.bytes(body.remaining) }));
        }
        // Alignment padding after the last element may be absent.
        r.pos = Math.min(start + padTo(len, opts.align), r.end);
      }
      return out;
    },
  };
}

/** Property value: a known property's fields with its numeric type, or an unknown one kept raw. */
export type Prop<K extends number, F extends FieldTable> = { readonly type: K } & StructValue<F>;
export type RawProp = RawTlv & { readonly raw: true };

/**
 * An OF1.4+ property list (u16 type, u16 length, body, padded to 8) from a
 * table of [type, body fields]; unknown and experimenter types stay raw.
 */
export function propList<V extends { readonly type: number }>(
  known: ReadonlyArray<readonly [number, FieldTable]>,
  what: string,
  lenError: OfErrorName = 'OFPBPC_BAD_LEN',
  align = 8,
): Codec<Array<V | RawProp>> {
  return tlvList<V | RawProp>(
    new Map(known.map(([t, f]) => [t, struct(f, { lenError, what }) as unknown as Codec<V | RawProp>])),
    { align, lenError, what, raw: (t) => ({ ...t, raw: true }), unraw: (v) => ('raw' in v ? v : undefined) },
  );
}

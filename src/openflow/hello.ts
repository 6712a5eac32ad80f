// HELLO construction and version negotiation, with OVS's behaviour on
// failure: an OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE error whose data is an
// ASCII explanation, sent in the peer's highest version (or OF1.0 when this
// codec cannot express that version), xid 0, then the connection closes.

import { Buffer } from 'node:buffer';
import { OfError, errorWire } from './errors.js';
import { OFPHET_VERSIONBITMAP, SUPPORTED_VERSIONS, type HelloElement, type MessageOf, type OfMessage } from './messages.js';

/** Index of the highest set bit, or -1. */
function leftmostBit(x: number): number {
  return x === 0 ? -1 : 31 - Math.clz32(x);
}

/** True when the bitmap is exactly 1..max (then the header version says it all). */
function isContiguousFromOne(bitmap: number): boolean {
  const x = (bitmap >>> 1) + 1;
  return (x & (x - 1)) === 0;
}

/** The HELLO announcing `versions` (a bitmap); a bitmap element only when the header cannot say it, as OVS does. */
export function makeHello(versions: number = SUPPORTED_VERSIONS, xid = 0): MessageOf<'HELLO'> {
  const version = leftmostBit(versions);
  if (version < 1) throw new RangeError('makeHello: no versions');
  const elements: HelloElement[] = isContiguousFromOne(versions)
    ? []
    : [{ type: OFPHET_VERSIONBITMAP, bitmaps: [versions >>> 0] }];
  return { version, xid, kind: 'HELLO', body: { elements } };
}

/** The versions a peer's HELLO offers: every version up to the header's, narrowed by a bitmap element. */
export function helloVersions(m: MessageOf<'HELLO'>): number {
  let versions = m.version < 32 ? (((1 << m.version) >>> 0) - 1) * 2 : 0xfffffffe;
  for (const e of m.body.elements) {
    if (e.type === OFPHET_VERSIONBITMAP && 'bitmaps' in e && e.bitmaps.length > 0) {
      // Only the first word matters until versions above 31 exist; version 0 does not.
      const v = (e.bitmaps[0] & ~1) >>> 0;
      if (v) versions = v;
    }
  }
  return versions >>> 0;
}

function describe(bitmap: number): string {
  const hex = (v: number) => `0x${v.toString(16).padStart(2, '0')}`;
  if (!bitmap) return 'no versions';
  if ((bitmap & (bitmap - 1)) === 0) return `version ${hex(leftmostBit(bitmap))}`;
  if (isContiguousFromOne(bitmap)) return `version ${hex(leftmostBit(bitmap))} and earlier`;
  const parts: string[] = [];
  for (let v = 0; v < 32; v++) if (bitmap & (1 << v)) parts.push(hex(v));
  return `versions ${parts.join(', ')}`;
}

export type Negotiation =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly error: MessageOf<'ERROR'>; readonly reason: string };

/** Picks the highest common version, or builds the error OVS sends before closing. */
export function negotiateVersion(ours: number, peerHello: MessageOf<'HELLO'>): Negotiation {
  const peer = helloVersions(peerHello);
  const common = (ours & peer) >>> 0;
  if (common) return { ok: true, version: leftmostBit(common) };
  const reason = `We support ${describe(ours)}, you support ${describe(peer)}, no common versions.`;
  let version = leftmostBit(peer);
  if (version < 1 || version > 6) version = 1;
  const w = errorWire('OFPHFC_INCOMPATIBLE', version);
  if (!w || w.kind !== 'standard') throw new OfError('OFPHFC_INCOMPATIBLE');
  const error: OfMessage = {
    version,
    xid: 0,
    kind: 'ERROR',
    body: { type: w.type, code: w.code, data: new Uint8Array(Buffer.from(reason, 'latin1')) },
  };
  return { ok: false, error, reason };
}

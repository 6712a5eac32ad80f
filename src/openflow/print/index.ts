// ofp-print: an OpenFlow message as `ovs-ofctl ofp-print` writes it.
// Imports only from src/openflow: this could ship with the codec.

import { OfError, decodeMessage, type OfMessage } from '../index.js';
import { formatBody, type PrintOptions } from './body.js';
import { rawName, versionTag } from './names.js';
import { textFormatter, type FlowFormatter } from './text-hooks.js';
import { PrintError, hexDump } from './util.js';

export { hexDump, duration } from './util.js';
export { rawName, versionTag } from './names.js';
export { textFormatter, type FlowFormatter } from './text-hooks.js';
export { formatPacket } from './packet.js';
export type { PrintOptions } from './body.js';

/** Text of one OpenFlow message (`len` bytes of `buf`) at `verbosity`, ending in a newline — OVS's ofp_to_string. */
export function ofpToString(buf: Uint8Array, verbosity = 1, flow: FlowFormatter = textFormatter): string {
  const opts: PrintOptions = { verbosity, flow, print: (b, v) => ofpToString(b, v, flow) };
  if (buf.length === 0) return 'OpenFlow message is empty\n';
  if (buf.length < 8) return `OpenFlow packet too short (only ${buf.length} bytes):\n` + hexDump(buf);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = dv.getUint16(2);
  const xid = dv.getUint32(4);
  if (length > buf.length) {
    const raw = rawName(buf);
    let s = 'name' in raw ? raw.name + versionTag(buf[0], xid) + '\n' : '';
    s += `(***truncated to ${buf.length} bytes from ${length}***)\n`;
    return s + hexDump(buf);
  }
  if (length < buf.length) return `(***only uses ${length} bytes out of ${buf.length}***)\n` + hexDump(buf);

  const raw = rawName(buf);
  let s: string;
  let failed = false;
  if ('error' in raw) {
    s = `***decode error: ${raw.error}***\n`;
    failed = true;
  } else {
    s = raw.name + versionTag(buf[0], xid);
    const headerLen = s.length;
    let body: string | undefined;
    let error: string | undefined;
    try {
      const m: OfMessage = decodeMessage(buf);
      body = formatBody(m, buf, opts);
    } catch (e) {
      if (e instanceof OfError) error = e.error;
      else if (e instanceof PrintError) {
        error = e.error;
        body = e.partial;
      } else throw e;
    }
    if (body !== undefined) s += body;
    if (error !== undefined) {
      failed = true;
      if (s.length > headerLen) {
        s = s.replace(/ +$/, '');
        if (!s.endsWith('\n')) s += '\n';
      } else {
        s += ' ';
      }
      s += `***decode error: ${error}***\n`;
    } else {
      s = s.replace(/ +$/, '');
    }
  }
  if (verbosity >= 5 || failed) {
    if (s.length && !s.endsWith('\n')) s += '\n';
    s += hexDump(buf);
  }
  if (s.length && !s.endsWith('\n')) s += '\n';
  return s;
}


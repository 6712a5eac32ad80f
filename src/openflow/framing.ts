// Splits a TCP (or unix stream) byte stream into whole OpenFlow messages.
// A read may carry part of a message, several messages, or both.

import { OfError } from './errors.js';
import { OFP_HEADER_LEN } from './messages.js';

export class OfFramer {
  private pending: Uint8Array = new Uint8Array(0);

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.pending.length;
  }

  /**
   * Adds received bytes and returns every message now complete, in order.
   * A header length below 8 cannot be resynchronised from: it throws
   * OfError(BAD_LEN) and the connection should be dropped (as OVS does).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    let buf = chunk;
    if (this.pending.length) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const out: Uint8Array[] = [];
    let pos = 0;
    while (buf.length - pos >= OFP_HEADER_LEN) {
      const len = (buf[pos + 2] << 8) | buf[pos + 3];
      if (len < OFP_HEADER_LEN) {
        this.pending = new Uint8Array(0);
        throw new OfError('OFPBRC_BAD_LEN', `message length ${len} is shorter than the header`);
      }
      if (buf.length - pos < len) break;
      out.push(new Uint8Array(buf.subarray(pos, pos + len)));
      pos += len;
    }
    // Copy the tail so a large chunk is not kept alive by a few leftover bytes.
    this.pending = pos === buf.length ? new Uint8Array(0) : new Uint8Array(buf.subarray(pos));
    return out;
  }
}

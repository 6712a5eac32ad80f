// A batch of frames in one buffer: what the native rings fill and drain, and
// what the datapath classifies and acts on. Frames sit back to back in `buf`
// at `off[i]` for `len[i]` bytes, so a batch crosses into C (and to a worker,
// when `buf` is backed by a SharedArrayBuffer) as three typed arrays with no
// object per packet.

/** Frames a batch holds (OVS's NETDEV_MAX_BURST is 32; rings give more per wakeup). */
export const BATCH_MAX = 256;

/** Room for the largest frame a port may carry: a 9000-byte jumbo plus VLAN/QinQ and tunnel headers. */
export const FRAME_MAX = 9216;

/** Bytes of headroom a frame keeps before it, so push_vlan / tunnel push need no copy. */
export const HEADROOM = 64;

export class FrameBatch {
  /** Frame bytes; frame i is buf[off[i] .. off[i] + len[i]). */
  readonly buf: Uint8Array;
  readonly off: Uint32Array;
  readonly len: Uint32Array;
  /** The datapath port each frame came in on (filled by receive, read by classification). */
  readonly port: Uint32Array;
  /** Frames in use. */
  count = 0;

  /** `bytes` defaults to room for BATCH_MAX full-size (1518-byte) frames with headroom; `shared` backs it by a SharedArrayBuffer. */
  constructor(readonly capacity = BATCH_MAX, bytes = capacity * 2048, shared = false) {
    if (capacity < 1 || capacity > 65535) throw new RangeError(`batch capacity ${capacity} out of range 1..65535`);
    if (bytes < FRAME_MAX + HEADROOM) throw new RangeError(`batch buffer of ${bytes} bytes cannot hold one ${FRAME_MAX}-byte frame`);
    const mk = (n: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
    this.buf = new Uint8Array(mk(bytes));
    this.off = new Uint32Array(mk(capacity * 4));
    this.len = new Uint32Array(mk(capacity * 4));
    this.port = new Uint32Array(mk(capacity * 4));
  }

  /** A view of frame i (no copy). */
  frame(i: number): Uint8Array {
    return this.buf.subarray(this.off[i]!, this.off[i]! + this.len[i]!);
  }

  /** Bytes free after the last frame. */
  freeBytes(): number {
    if (this.count === 0) return this.buf.length;
    const last = this.count - 1;
    return this.buf.length - (this.off[last]! + this.len[last]!);
  }

  /** Copies a frame in (with headroom before it); false when the batch is full. */
  push(frame: Uint8Array, port = 0): boolean {
    if (this.count >= this.capacity) return false;
    const start = (this.count === 0 ? 0 : this.off[this.count - 1]! + this.len[this.count - 1]!) + HEADROOM;
    if (start + frame.length > this.buf.length) return false;
    this.buf.set(frame, start);
    this.off[this.count] = start;
    this.len[this.count] = frame.length;
    this.port[this.count] = port;
    this.count++;
    return true;
  }

  clear(): void {
    this.count = 0;
  }
}

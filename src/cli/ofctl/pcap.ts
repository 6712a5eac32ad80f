// Reading OpenFlow conversations out of a pcap file, as ovs-ofctl
// ofp-parse-pcap does: Ethernet/IPv4/TCP only, each direction of each TCP
// connection reassembled in sequence order, whole messages cut from it.

export interface PcapFrame {
  /** Capture time in microseconds. */
  readonly time: number;
  readonly data: Uint8Array;
}

/** The frames of a classic pcap file (either byte order, microsecond or nanosecond stamps). */
export function readPcap(file: Uint8Array): PcapFrame[] {
  if (file.length < 24) throw new Error('file too short for a pcap header');
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicBE = dv.getUint32(0, false);
  let little: boolean;
  let nano = false;
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) {
    little = false;
    nano = magicBE === 0xa1b23c4d;
  } else if (magicBE === 0xd4c3b2a1 || magicBE === 0x4d3cb2a1) {
    little = true;
    nano = magicBE === 0x4d3cb2a1;
  } else {
    throw new Error(`bad magic 0x${magicBE.toString(16).padStart(8, '0')} in pcap header`);
  }
  const frames: PcapFrame[] = [];
  let o = 24;
  while (o + 16 <= file.length) {
    const sec = dv.getUint32(o, little);
    const frac = dv.getUint32(o + 4, little);
    const caplen = dv.getUint32(o + 8, little);
    o += 16;
    if (o + caplen > file.length) break;
    frames.push({ time: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), data: file.subarray(o, o + caplen) });
    o += caplen;
  }
  return frames;
}

export interface TcpSegment {
  readonly nwSrc: number;
  readonly nwDst: number;
  readonly tpSrc: number;
  readonly tpDst: number;
  readonly seq: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** The TCP segment in an Ethernet frame carrying IPv4 (through VLAN tags), if it is one. */
export function tcpSegment(frame: Uint8Array): TcpSegment | undefined {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 14) return undefined;
  let o = 12;
  let type = dv.getUint16(o);
  while ((type === 0x8100 || type === 0x88a8) && o + 6 <= frame.length) {
    o += 4;
    type = dv.getUint16(o);
  }
  o += 2;
  if (type !== 0x0800 || o + 20 > frame.length) return undefined;
  const ihl = (frame[o] & 0xf) * 4;
  const totalLen = dv.getUint16(o + 2);
  if (ihl < 20 || frame[o + 9] !== 6 || dv.getUint16(o + 6) & 0x1fff) return undefined;
  const ipEnd = Math.min(frame.length, o + totalLen);
  const t = o + ihl;
  if (t + 20 > ipEnd) return undefined;
  const doff = (frame[t + 12] >> 4) * 4;
  if (doff < 20 || t + doff > ipEnd) return undefined;
  return {
    nwSrc: dv.getUint32(o + 12), nwDst: dv.getUint32(o + 16), tpSrc: dv.getUint16(t), tpDst: dv.getUint16(t + 2),
    seq: dv.getUint32(t + 4), flags: frame[t + 13], payload: frame.subarray(t + doff, ipEnd),
  };
}

const FIN = 1, SYN = 2, RST = 4;

interface Stream {
  seq: number;
  buf: Uint8Array;
}

/** One byte stream per (src, dst) direction, in order; out-of-order data is dropped as OVS's tcp_reader does. */
export class TcpReader {
  private readonly streams = new Map<string, Stream>();

  /** Adds a segment; returns its stream's pending bytes when the segment added data, else undefined. */
  run(seg: TcpSegment): Stream | undefined {
    const key = `${seg.nwSrc}:${seg.tpSrc}>${seg.nwDst}:${seg.tpDst}`;
    let s = this.streams.get(key);
    if (!s) {
      if (!(seg.flags & SYN) && !seg.payload.length) return undefined;
      s = { seq: seg.flags & SYN ? (seg.seq + 1) >>> 0 : seg.seq, buf: new Uint8Array(0) };
      this.streams.set(key, s);
    }
    if (seg.flags & SYN || !s.seq) {
      s.buf = new Uint8Array(0);
      s.seq = (seg.seq + 1) >>> 0;
      return undefined;
    }
    if (seg.flags & (FIN | RST)) {
      this.streams.delete(key);
      return undefined;
    }
    if (seg.seq !== s.seq) return undefined;
    const joined = new Uint8Array(s.buf.length + seg.payload.length);
    joined.set(s.buf);
    joined.set(seg.payload, s.buf.length);
    s.buf = joined;
    s.seq = (s.seq + seg.payload.length) >>> 0;
    return s;
  }
}

export function ipString(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

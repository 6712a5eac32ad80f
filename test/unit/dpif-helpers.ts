// Frames, fake ports and a toy translator for the datapath tests.

import { fixChecksums, newFlowKey, setField } from '../../src/flow/index.js';
import { FrameBatch } from '../../src/native/batch.js';
import { DpifNetdev, type DpAction, type DpPortIo, type DpifNetdevOptions, type UpcallResult } from '../../src/dpif/index.js';

export function macBytes(s: string): number[] {
  return s.split(':').map((x) => Number.parseInt(x, 16));
}
const ip4Bytes = (s: string): number[] => s.split('.').map(Number);

export interface FrameSpec {
  src?: string;
  dst?: string;
  /** Outer tags first: [tpid, tci] (tci without CFI, as on the wire). */
  vlans?: readonly (readonly [number, number])[];
  type?: number;
  ipSrc?: string;
  ipDst?: string;
  proto?: number;
  ttl?: number;
  tos?: number;
  sport?: number;
  dport?: number;
  /** Payload bytes after the L4 header. */
  payload?: number;
}

/** An Ethernet frame (IPv4 + UDP/TCP/ICMP by default) with valid checksums. */
export function buildFrame(o: FrameSpec = {}): Uint8Array {
  const b: number[] = [...macBytes(o.dst ?? '50:54:00:00:00:02'), ...macBytes(o.src ?? '50:54:00:00:00:01')];
  for (const [tpid, tci] of o.vlans ?? []) b.push(tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff);
  const type = o.type ?? 0x0800;
  b.push(type >> 8, type & 0xff);
  if (type === 0x0800) {
    const proto = o.proto ?? 17;
    const l4len = proto === 6 ? 20 : 8;
    const payload = o.payload ?? 18;
    const total = 20 + l4len + payload;
    b.push(0x45, o.tos ?? 0, total >> 8, total & 0xff, 0, 1, 0, 0, o.ttl ?? 64, proto, 0, 0, ...ip4Bytes(o.ipSrc ?? '10.0.0.1'), ...ip4Bytes(o.ipDst ?? '10.0.0.2'));
    const sp = o.sport ?? 1000;
    const dp = o.dport ?? 2000;
    if (proto === 6) b.push(sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0);
    else if (proto === 17) b.push(sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, (8 + payload) >> 8, (8 + payload) & 0xff, 0xff, 0xff);
    else b.push(8, 0, 0, 0, 0, 1, 0, 1);
    for (let i = 0; i < payload; i++) b.push(i & 0xff);
  } else {
    for (let i = 0; i < (o.payload ?? 46); i++) b.push(i & 0xff);
  }
  const f = Uint8Array.from(b);
  fixChecksums(f);
  return f;
}

/** A port that queues frames to receive and records what is sent to it. */
export class FakePort implements DpPortIo {
  readonly rxq: Uint8Array[] = [];
  readonly sent: Uint8Array[] = [];
  txCalls = 0;
  rx(batch: FrameBatch): number {
    let n = 0;
    while (this.rxq.length && batch.push(this.rxq[0]!)) { this.rxq.shift(); n++; }
    return n;
  }
  tx(batch: FrameBatch, idx: Uint16Array, n: number): void {
    this.txCalls++;
    for (let k = 0; k < n; k++) this.sent.push(Uint8Array.from(batch.frame(idx[k]!)));
  }
}

/** A mask with these fields exact (bigint API: tests only). */
export function maskOf(...fields: string[]): Uint32Array {
  const m = newFlowKey();
  for (const f of fields) setField(m, f, (1n << 128n) - 1n);
  return m;
}

/** A masked set action: field values, each field fully masked unless given as [value, mask]. */
export function setAction(fields: Record<string, bigint | readonly [bigint, bigint]>): DpAction {
  const key = newFlowKey();
  const mask = newFlowKey();
  for (const [name, v] of Object.entries(fields)) {
    const [value, m] = typeof v === 'bigint' ? [v, (1n << 128n) - 1n] : v;
    setField(key, name, value);
    setField(mask, name, m);
  }
  return { type: 'set', key, mask };
}

export interface Rig {
  dp: DpifNetdev;
  ports: FakePort[];
  upcalls: number;
  /** Sends frames in on a port as one batch. */
  inject(port: number, frames: readonly Uint8Array[]): void;
}

/** A datapath with ports 1..n (fake I/O) and a translator the test supplies. */
export function rig(n: number, translate: (inPort: number, key: Uint32Array) => UpcallResult | null, opts: Partial<DpifNetdevOptions> = {}): Rig {
  const ports = Array.from({ length: n + 1 }, () => new FakePort());
  const r: Rig = {
    dp: undefined as unknown as DpifNetdev,
    ports,
    upcalls: 0,
    inject(port, frames) {
      const b = new FrameBatch(Math.max(1, frames.length), Math.max(16384, frames.length * 9300));
      for (const f of frames) if (!b.push(f, port)) throw new Error('batch full');
      r.dp.processBatch(b);
    },
  };
  r.dp = new DpifNetdev({
    upcall: (inPort, key) => { r.upcalls++; return translate(inPort, key); },
    retranslate: (f) => translate(f.fullKey[1]!, f.fullKey),
    dummyNumbering: true,
    ...opts,
  });
  for (let i = 1; i <= n; i++) r.dp.addPort(`p${i}`, 'dummy', ports[i]!);
  return r;
}

/** True when the frame's IPv4 and L4 checksums are what a full recomputation gives. */
export function checksumsValid(frame: Uint8Array): boolean {
  const copy = Uint8Array.from(frame);
  fixChecksums(copy);
  return Buffer.compare(copy, frame) === 0;
}

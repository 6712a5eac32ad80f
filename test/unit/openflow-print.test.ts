// ofp-print against the real thing: every sample message printed by our
// printer must read exactly as `ovs-ofctl ofp-parse` prints it (one ovs-ofctl
// run for all of them), and a pcap of them must read as `ovs-ofctl
// ofp-parse-pcap` reads it. Skipped when ovs-ofctl is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, type OfMessage } from '../../src/openflow/index.js';
import { ofpToString, hexDump, formatPacket } from '../../src/openflow/print/index.js';
import { run } from '../../src/cli/ofctl/main.js';
import { flowFormatter } from '../../src/cli/ofctl/text.js';
import { samplesFor } from './openflow-samples.js';

const hasOfctl = spawnSync('ovs-ofctl', ['--version'], { stdio: 'ignore' }).status === 0;

function label(m: OfMessage): string {
  const stat = m.kind === 'MULTIPART_REQUEST' || m.kind === 'MULTIPART_REPLY' ? ` ${m.body.stat}` : '';
  return `OF1.${m.version - 1} ${m.kind}${stat} xid=${m.xid}`;
}

function withTmp<T>(f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tsw-ofp-print-'));
  try {
    return f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A marker between messages lets one ovs-ofctl run print them all and still be split apart.
const MARK_XID = 0xfeed0000;
function marker(i: number): Uint8Array {
  return encodeMessage({ version: 1, xid: MARK_XID + i, kind: 'ECHO_REQUEST', body: { data: new Uint8Array(0) } });
}

function realOfpParse(msgs: Uint8Array[]): string[] {
  return withTmp((dir) => {
    const file = join(dir, 'msgs.bin');
    const parts: Uint8Array[] = [];
    msgs.forEach((b, i) => parts.push(b, marker(i)));
    writeFileSync(file, Buffer.concat(parts));
    const r = spawnSync('ovs-ofctl', ['ofp-parse', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out: string[] = [];
    let rest = r.stdout;
    for (let i = 0; i < msgs.length; i++) {
      const mark = `OFPT_ECHO_REQUEST (xid=0x${(MARK_XID + i).toString(16)}): 0 bytes of payload\n`;
      const at = rest.indexOf(mark);
      assert.ok(at >= 0, `marker ${i} in ovs-ofctl output`);
      out.push(rest.slice(0, at));
      rest = rest.slice(at + mark.length);
    }
    return out;
  });
}

const samples = [1, 4, 5, 6].flatMap((v) => samplesFor(v));

test('every sample prints as ovs-ofctl ofp-parse prints it', { skip: !hasOfctl && 'ovs-ofctl not installed' }, async (t) => {
  const bytes = samples.map((m) => encodeMessage(m));
  const real = realOfpParse(bytes);
  for (const [i, m] of samples.entries()) {
    await t.test(label(m), () => {
      assert.equal(ofpToString(bytes[i], 2, flowFormatter), real[i]);
    });
  }
});

test('bad and odd messages print as ovs-ofctl prints them', { skip: !hasOfctl && 'ovs-ofctl not installed' }, () => {
  const cases = [
    '0104001400000004000023200000000000000000', // Nicira vendor message with an unknown subtype
    '01',                                     // shorter than a header
    '0100001000000001',                       // header longer than the bytes
    '010000080000000100',                     // bytes longer than the header
    '0113000800000008',                       // OF1.0 barrier reply
    '07000008000000ff',                       // unknown version
    '013f000800000001',                       // unknown type
    '0402000c0000000370696e67',               // OF1.3 echo
  ];
  const real = realOfpParse(cases.map((h) => new Uint8Array(Buffer.from(h, 'hex'))).filter((b) => b.length >= 8 && b.length === ((b[2] << 8) | b[3])));
  const wellFormed = cases.filter((h) => { const b = Buffer.from(h, 'hex'); return b.length >= 8 && b.length === b.readUInt16BE(2); });
  wellFormed.forEach((h, i) => assert.equal(ofpToString(new Uint8Array(Buffer.from(h, 'hex')), 2, flowFormatter), real[i], h));
  for (const h of cases) {
    const r = spawnSync('ovs-ofctl', ['ofp-print', h], { encoding: 'utf8' });
    assert.equal(ofpToString(new Uint8Array(Buffer.from(h, 'hex')), 2, flowFormatter), r.stdout, h);
  }
});

test('hex dumps match ds_put_hex_dump', () => {
  assert.equal(hexDump(new Uint8Array([0x70, 0x69, 0x6e, 0x67])), '00000000  70 69 6e 67                                     |ping            |\n');
  const b = new Uint8Array(20).map((_, i) => i + 0x41);
  assert.equal(hexDump(b).split('\n')[0], '00000000  41 42 43 44 45 46 47 48-49 4a 4b 4c 4d 4e 4f 50 |ABCDEFGHIJKLMNOP|');
});

test('a TCP SYN reads as OVS summarises it', () => {
  const frame = Buffer.from(
    '505400000006505400000005080045000028000000004006f97cc0a80001c0a80002272f00000000000000000000500200002' + '6e80000',
    'hex',
  );
  assert.equal(
    formatPacket(new Uint8Array(frame)),
    'tcp,vlan_tci=0x0000,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:06,nw_src=192.168.0.1,nw_dst=192.168.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=10031,tp_dst=0,tcp_flags=syn tcp_csum:26e8\n',
  );
});

// ---------------------------------------------------------------- pcaps

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One TCP connection 10.0.0.1:40000 <-> 10.0.0.2:6653; `chunks` are payloads, some split across segments. */
function pcapOf(chunks: { fromClient: boolean; payload: Uint8Array }[]): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(1, 20);
  const out: Buffer[] = [gh];
  const seq = { c: 1000, s: 5000 };
  const segs = [{ fromClient: true, flags: 0x02, payload: new Uint8Array(0) }, { fromClient: false, flags: 0x12, payload: new Uint8Array(0) },
    ...chunks.map((c) => ({ ...c, flags: 0x18 }))];
  let t = 0;
  for (const s of segs) {
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(s.fromClient ? 40000 : 6653, 0);
    tcp.writeUInt16BE(s.fromClient ? 6653 : 40000, 2);
    tcp.writeUInt32BE(s.fromClient ? seq.c : seq.s, 4);
    tcp.writeUInt32BE(s.flags & 0x10 ? (s.fromClient ? seq.s : seq.c) : 0, 8);
    tcp[12] = 0x50;
    tcp[13] = s.flags;
    tcp.writeUInt16BE(65535, 14);
    const adv = s.payload.length + (s.flags & 0x02 ? 1 : 0);
    if (s.fromClient) seq.c += adv; else seq.s += adv;
    const src = s.fromClient ? [10, 0, 0, 1] : [10, 0, 0, 2];
    const dst = s.fromClient ? [10, 0, 0, 2] : [10, 0, 0, 1];
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(40 + s.payload.length, 2);
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from(src).copy(ip, 12);
    Buffer.from(dst).copy(ip, 16);
    ip.writeUInt16BE(checksum(ip), 10);
    const eth = Buffer.from('020000000002020000000001' + '0800', 'hex');
    const frame = Buffer.concat([eth, ip, tcp, s.payload]);
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(1_700_000_000, 0);
    ph.writeUInt32LE(t++, 4);
    ph.writeUInt32LE(frame.length, 8);
    ph.writeUInt32LE(frame.length, 12);
    out.push(ph, frame);
  }
  return Buffer.concat(out);
}

function oursOf(args: string[]): string {
  let out = '';
  const status = run(args, { out: (s) => { out += s; } }, () => undefined);
  assert.equal(status, 0);
  return out;
}

test('ofp-parse-pcap reads a conversation as ovs-ofctl does', { skip: !hasOfctl && 'ovs-ofctl not installed' }, () => {
  const msgs = samples.map((m) => encodeMessage(m));
  // Messages go both ways; some segments carry two messages, some half of one.
  const chunks: { fromClient: boolean; payload: Uint8Array }[] = [];
  for (let i = 0; i < msgs.length; i += 3) {
    const fromClient = (i / 3) % 2 === 0;
    const joined = Buffer.concat(msgs.slice(i, i + 3));
    const cut = Math.floor(joined.length / 2) + 1;
    chunks.push({ fromClient, payload: joined.subarray(0, cut) }, { fromClient, payload: joined.subarray(cut) });
  }
  withTmp((dir) => {
    const file = join(dir, 'of.pcap');
    writeFileSync(file, pcapOf(chunks));
    const real = spawnSync('ovs-ofctl', ['ofp-parse-pcap', file], { encoding: 'utf8' });
    assert.equal(real.status, 0, real.stderr);
    assert.ok(real.stdout.includes('10.0.0.2.6653 > 10.0.0.1.40000:'));
    assert.equal(oursOf(['ofp-parse-pcap', file]), real.stdout);
    const more = spawnSync('ovs-ofctl', ['-m', 'ofp-parse-pcap', file, '6653'], { encoding: 'utf8' });
    assert.equal(oursOf(['-m', 'ofp-parse-pcap', file, '6653']), more.stdout);
    assert.equal(oursOf(['ofp-parse-pcap', file, '1234']), '');
  });
});

test('ofp-print reads hex with blanks and newlines, and refuses garbage', () => {
  assert.equal(oursOf(['ofp-print', '01 13 00 08\n00 00 00 08']), 'OFPT_BARRIER_REPLY (xid=0x8):\n');
  let err = '';
  assert.equal(run(['ofp-print', '0113000800000008zz'], { out: () => undefined }, (s) => { err += s; }), 1);
  assert.match(err, /trailing garbage following hex bytes/);
});

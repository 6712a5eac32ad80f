// External check: Wireshark's OpenFlow dissector must read every message we
// encode as the intended version and type, with no malformed-packet or expert
// errors. Skipped when tshark is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage, makeHello, negotiateVersion, messageType } from '../../src/openflow/index.js';
import { SAMPLE_MATCH, messagesFor, newMessagesFor } from './openflow-samples.js';

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;

// ---------------------------------------------------------------- a tiny pcap writer

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface Segment { fromClient: boolean; flags: number; payload: Uint8Array }

const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_PSH = 0x08, TCP_ACK = 0x10;

/** Ethernet + IPv4 + TCP frames of one connection 10.0.0.1:40000 -> 10.0.0.2:6653, with real seq/ack numbers. */
function pcap(segments: Segment[]): Buffer {
  const out: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535 + 64, 16);
  gh.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  out.push(gh);
  const seq = { client: 1000, server: 5000 };
  let t = 0;
  for (const s of segments) {
    const tcp = Buffer.alloc(20);
    const srcPort = s.fromClient ? 40000 : 6653;
    const dstPort = s.fromClient ? 6653 : 40000;
    const mySeq = s.fromClient ? seq.client : seq.server;
    const theirSeq = s.fromClient ? seq.server : seq.client;
    tcp.writeUInt16BE(srcPort, 0);
    tcp.writeUInt16BE(dstPort, 2);
    tcp.writeUInt32BE(mySeq >>> 0, 4);
    tcp.writeUInt32BE(s.flags & TCP_ACK ? theirSeq >>> 0 : 0, 8);
    tcp[12] = 5 << 4;
    tcp[13] = s.flags;
    tcp.writeUInt16BE(65535, 14);
    const advance = s.payload.length + (s.flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    if (s.fromClient) seq.client += advance; else seq.server += advance;
    const src = s.fromClient ? [10, 0, 0, 1] : [10, 0, 0, 2];
    const dst = s.fromClient ? [10, 0, 0, 2] : [10, 0, 0, 1];
    const tcpLen = 20 + s.payload.length;
    const pseudo = Buffer.concat([Buffer.from(src), Buffer.from(dst), Buffer.from([0, 6, tcpLen >> 8, tcpLen & 0xff]), tcp, s.payload]);
    tcp.writeUInt16BE(checksum(pseudo), 16);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + tcpLen, 2);
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from(src).copy(ip, 12);
    Buffer.from(dst).copy(ip, 16);
    ip.writeUInt16BE(checksum(ip), 10);
    const eth = Buffer.from(s.fromClient ? '020000000002020000000001' + '0800' : '020000000001020000000002' + '0800', 'hex');
    const frame = Buffer.concat([eth, ip, tcp, s.payload]);
    const ph = Buffer.alloc(16);
    ph.writeUInt32LE(1_700_000_000 + Math.floor(t / 1000), 0);
    ph.writeUInt32LE((t % 1000) * 1000, 4);
    ph.writeUInt32LE(frame.length, 8);
    ph.writeUInt32LE(frame.length, 12);
    t += 1;
    out.push(ph, frame);
  }
  return Buffer.concat(out);
}

/**
 * Where Wireshark 4.0's OpenFlow dissector is wrong, not our bytes (each one
 * checked against the specification and against ovs-ofctl ofp-parse, which
 * reads the same message cleanly in openflow-ovs.test.ts).
 */
const DISSECTOR_GAPS: ReadonlyArray<readonly [string, number, RegExp]> = [
  // OF1.4+ ofp_queue_stats is length, pad[6], port_no… (spec; OVS ofp14_queue_stats); Wireshark skips only 2 pad bytes.
  ...[5, 6].map((v) => ['MULTIPART_REPLY QUEUE_STATS', v, /^Length is too short\.$/] as const),
  // OF1.4+ queue-desc properties are type, length, rate, pad[2]; Wireshark reads them with the OF1.0-1.3 queue property header.
  ...[5, 6].map((v) => ['MULTIPART_REPLY QUEUE_DESC', v, /Length is too short/] as const),
  // Wireshark 4.0's OF1.5 dissector throws on any OXM entry (see the FLOW_MOD note below).
  ['PACKET_IN', 6, /Exception occurred/],
  ['PACKET_OUT', 6, /Exception occurred/],
  ['MULTIPART_REPLY TABLE_FEATURES', 6, /Exception occurred/],
  // Wireshark 4.0 dissects OF1.5 group-desc buckets with the OF1.1-1.4 bucket layout (its OF1.5 GROUP_MOD uses the right one).
  ['MULTIPART_REPLY GROUP_DESC', 6, /Exception occurred/],
];

const VERSION_FIELD: Record<number, string> = { 1: 'openflow.version', 4: 'openflow_v4.version', 5: 'openflow_v5.version', 6: 'openflow_v6.version' };
const TYPE_FIELD: Record<number, string> = { 1: 'openflow_1_0.type', 4: 'openflow_v4.type', 5: 'openflow_v5.type', 6: 'openflow_v6.type' };

test('OF1.5 FLOW_MOD with OXM match and set_field equals the OF1.4 bytes but for the version (the OF1.4 dissection vouches for them)', () => {
  const body = {
    cookie: 1n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 60, hard_timeout: 0, priority: 0x8000,
    buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 1, importance: 7, match: SAMPLE_MATCH,
    instructions: [{
      type: 'apply_actions' as const,
      actions: [{ type: 'set_field' as const, field: { field: 'vlan_vid', value: 0x1064n } }, { type: 'output' as const, port: 2, max_len: 0 }],
    }],
  };
  const v14 = encodeMessage({ version: 5, xid: 1, kind: 'FLOW_MOD', body });
  const v15 = encodeMessage({ version: 6, xid: 1, kind: 'FLOW_MOD', body });
  assert.deepEqual(v15.subarray(1), v14.subarray(1));
});

test('tshark decodes every message we encode with the intended version and type, and reports no problems', { skip: !hasTshark && 'tshark not installed' }, () => {
  const msgs = [1, 4, 5, 6].flatMap(messagesFor);
  const added = [1, 4, 5, 6].flatMap(newMessagesFor);
  // A failed negotiation error too (HELLO_FAILED with text, OF1.0 header).
  const failed = negotiateVersion(1 << 4, makeHello(1 << 1, 0));
  assert.ok(!failed.ok);
  if (!failed.ok) msgs.push(failed.error);
  // The field-level checks below look at the original samples only (the added ones nest messages that match their filters).
  const lastOld = 3 + msgs.length;
  msgs.push(...added);

  const segments: Segment[] = [
    { fromClient: true, flags: TCP_SYN, payload: new Uint8Array(0) },
    { fromClient: false, flags: TCP_SYN | TCP_ACK, payload: new Uint8Array(0) },
    { fromClient: true, flags: TCP_ACK, payload: new Uint8Array(0) },
    ...msgs.map((m, i) => ({ fromClient: i % 2 === 0, flags: TCP_PSH | TCP_ACK, payload: encodeMessage(m) })),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tsw-of-'));
  try {
    const file = join(dir, 'of.pcap');
    writeFileSync(file, pcap(segments));
    const fields = ['frame.number', ...Object.values(VERSION_FIELD), ...Object.values(TYPE_FIELD), '_ws.malformed', '_ws.expert.severity', '_ws.expert.message'];
    const r = spawnSync('tshark', [
      '-r', file, '-d', 'tcp.port==6653,openflow', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f]),
    ], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('|'));
    const dataRows = rows.slice(3);
    assert.equal(dataRows.length, msgs.length);
    const problems: string[] = [];
    dataRows.forEach((row, i) => {
      const m = msgs[i];
      const [frame, v10, v13, v14, v15, t10, t13, t14, t15, malformed, severity, message] = row;
      const versions: Record<number, string> = { 1: v10, 4: v13, 5: v14, 6: v15 };
      const types: Record<number, string> = { 1: t10, 4: t13, 5: t14, 6: t15 };
      const stat = m.kind === 'MULTIPART_REQUEST' || m.kind === 'MULTIPART_REPLY' ? ` ${m.body.stat}` : '';
      const where = `frame ${frame}: ${m.kind}${stat} v${m.version} (${message})`;
      if (Number(versions[m.version].split(',')[0]) !== m.version) problems.push(`${where}: version ${versions[m.version]}`);
      if (Number(types[m.version].split(',')[0]) !== messageType(m.kind, m.version)) problems.push(`${where}: type ${types[m.version]}`);
      // Wireshark marks bodies its OpenFlow dissector does not implement ("... not dissected yet") as warnings:
      // a dissector gap, not a defect in our bytes. Notes (e.g. "Experimenter body.") are informational.
      const sev = severity ? severity.split(',').map(Number) : [];
      const msgsHere = message ? message.split(',') : [];
      const real = msgsHere.filter((x, j) => (sev[j] ?? 0) >= 0x600000 && !/not dissected yet/.test(x));
      const known = DISSECTOR_GAPS.find(([kind, v, re]) => kind === `${m.kind}${stat}` && v === m.version && re.test(message));
      if ((malformed || real.length) && !known) problems.push(`${where}: malformed=${malformed} ${real.join(';')}`);
    });
    assert.deepEqual(problems, []);

    // The OXM matches: Wireshark must see our field numbers and lengths, in our order.
    const oxm = spawnSync('tshark', [
      '-r', file, '-d', 'tcp.port==6653,openflow', '-Y', `(openflow_v4.type==11 || openflow_v5.type==11) && frame.number <= ${lastOld}`,
      '-T', 'fields', '-E', 'separator=|', '-e', 'openflow_v4.oxm.field', '-e', 'openflow_v5.oxm.field', '-e', 'openflow_v4.oxm.length', '-e', 'openflow_v5.oxm.length',
    ], { encoding: 'utf8' });
    assert.equal(oxm.status, 0, oxm.stderr);
    const oxmRows = oxm.stdout.trim().split('\n').map((l) => l.split('|').filter((x) => x !== ''));
    assert.deepEqual(oxmRows, [
      ['0,2,3,6,7,5,8,9,10,11,16,38', '4,16,6,2,1,2,1,1,1,8,2,16'],
      ['0,2,3,6,7,5,8,9,10,11,16,38', '4,16,6,2,1,2,1,1,1,8,2,16'],
    ]);

    // FLOW_MOD instructions and actions as Wireshark reads them.
    const fm = spawnSync('tshark', [
      '-r', file, '-d', 'tcp.port==6653,openflow', '-Y', `(openflow_v4.type==14 || openflow_v5.type==14 || openflow_v6.type==14) && frame.number <= ${lastOld}`,
      '-T', 'fields', '-E', 'separator=|',
      ...['v4', 'v5', 'v6'].flatMap((v) => ['-e', `openflow_${v}.instruction.type`, '-e', `openflow_${v}.action.type`]),
    ], { encoding: 'utf8' });
    assert.equal(fm.status, 0, fm.stderr);
    assert.deepEqual(fm.stdout.trim().split('\n').map((l) => l.split('|').filter((x) => x !== '')), [
      ['2,4,1', '17,25,25,24,22,0'],
      ['2,4,1', '17,25,25,24,22,0'],
      ['2,4,1', '29,17,24,22,0'],
    ]);

    // Over the original samples (the added ones are checked frame by frame above, with the dissector gaps listed).
    const expert = spawnSync('tshark', ['-r', file, '-d', 'tcp.port==6653,openflow', '-q', '-z', `expert,frame.number<=${lastOld}`], { encoding: 'utf8' });
    assert.equal(expert.status, 0, expert.stderr);
    assert.doesNotMatch(expert.stdout, /Errors|Malformed/, expert.stdout);
    // Only "Undecoded" (dissector gaps: OF1.0 error data, experimenter bodies) and TCP sequence chatter may appear.
    for (const line of expert.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l))) assert.match(line, /\s(Undecoded|Sequence)\s/, line);
  } finally {
    if (!process.env.KEEP_PCAP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
  }
});

// tun_metadata0-63 (Geneve options by their TLV mapping) from the wire to the
// pipeline: the variable-length NXM/OXM entries real ovs-ofctl 3.1 sends, the
// flow text as ovs-ofctl parses and prints it, the flow key's option space
// (fragmented mappings included), the switch's refs on the mapping, and
// set_field/load/move in a traced translation.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FlowSyntaxError, OfError, Reader, Writer, decodeMessage, encodeMessage, flowModMessage, formatWireMatch, parseFlow, tlvFields,
  type FlowCommand, type Match, type MessageOf, type Protocol,
} from '../../src/openflow/index.js';
import { keyMaskToMatch, matchOfWords, matchToKeyMask, tunMetadataPresentMap, type TunMetadataLayout } from '../../src/flow/index.js';
import { Ofproto, decodeFlowMod } from '../../src/ofproto/index.js';
import { trace, type TunnelEncap, type XlateBridge } from '../../src/xlate/index.js';
import { decapsulate, encapsulate, geneveOptionsOf, geneveOptionsToKey } from '../../src/xlate/tunnel.js';
import {
  DpifNetdev, encodeGeneveOption, formatTunnelHeader, takeRawGeneveOptions, tunnelHeader, type UpcallResult,
} from '../../src/dpif/index.js';
import { FrameBatch } from '../../src/native/batch.js';
import { FakePort, buildFrame, maskOf } from './dpif-helpers.js';
import { TlvTable } from '../../src/ofproto/index.js';
import { newFlowKey, readTunMetadata, tunMetadataPresent } from '../../src/flow/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function encodeNxm(m: Match): Uint8Array {
  const codec = tlvFields(0);
  const w = new Writer(codec.size(m));
  codec.write(w, m);
  return w.buf;
}

function decodeNxm(b: Uint8Array): Match {
  return tlvFields(0).read(new Reader(b, 0, b.length, 'OFPBMC_BAD_LEN'));
}

function errName(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OfError) return e.error;
    if (e instanceof FlowSyntaxError) return e.message;
    throw e;
  }
  return 'no error';
}

describe('tun_metadata on the wire', () => {
  // The nx_match of `ovs-ofctl add-flow br0 tun_metadata1=0x12/0xff,tun_metadata2=0,tun_metadata3=0x1234,...`.
  const FROM_OVS = '00015302 12ff 00015400 00015602 1234';

  test('ovs-ofctl writes the fewest bytes that hold value and mask, and the bytes decode with their length', () => {
    const m = parseFlow('tun_metadata1=0x12/0xff,tun_metadata2=0,tun_metadata3=0x1234,actions=drop').match;
    assert.equal(hex(encodeNxm(m)), FROM_OVS.replace(/ /g, ''));
    assert.deepEqual(decodeNxm(unhex(FROM_OVS)), {
      tun_metadata1: { value: 0x12n, mask: 0xffn, len: 1 }, tun_metadata2: { value: 0n, len: 0 }, tun_metadata3: { value: 0x1234n, len: 2 },
    });
  });

  test('a switch writes the mapped length; a longer entry keeps its first 124 bytes; value outside mask is refused', () => {
    assert.equal(hex(encodeNxm({ tun_metadata0: { value: 0x12n, len: 4 } })), '0001500400000012');
    assert.equal(hex(encodeNxm({ tun_metadata0: { value: 0x12n, mask: 0xffn, len: 4 } })), '00015108' + '00000012' + '000000ff');
    const long = decodeNxm(unhex('0001507e' + 'ab'.repeat(126)));
    assert.deepEqual(long, { tun_metadata0: { value: BigInt(`0x${'ab'.repeat(124)}`), len: 124 } });
    assert.equal(errName(() => decodeNxm(unhex('00015104 0f01 00ff'))), 'OFPBMC_BAD_WILDCARDS');
  });

  test('set_field, load and move go out as ovs-ofctl sends them (NXAST_REG_LOAD2, Set-Field, a 124-byte move header)', () => {
    const flow = parseFlow('actions=load:0x1->tun_metadata3[0..15],move:tun_metadata3[0..31]->NXM_NX_REG0[],set_field:0x55->tun_metadata5');
    const nx = encodeMessage(flowModMessage(flow, 'NXM'));
    assert.ok(hex(nx).endsWith('ffff0018000023200021000157040001ffff000000000000'
      + 'ffff00180000232000060020000000000001567c00010004' + 'ffff001000002320002100015a015500'));
    const of13 = encodeMessage(flowModMessage(flow, 'OpenFlow13'));
    assert.ok(hex(of13).includes('0019001000015a015500000000000000'));
  });
});

describe('tun_metadata in flow text', () => {
  const print = (text: string): string => {
    const f = parseFlow(text);
    return formatWireMatch(decodeNxm(encodeNxm(f.match)), f.priority);
  };

  test('values and masks print as ovs-ofctl prints them: shortest hex, no all-ones mask, bare name for a zero mask', () => {
    assert.equal(print('tun_metadata0=0x1234/0xff00,actions=drop'), 'tun_metadata0=0x1200/0xff00');
    assert.equal(print('tun_metadata3=0x0000000001/0x00ff,actions=drop'), 'tun_metadata3=0x1');
    assert.equal(print('tun_metadata3=0,actions=drop'), 'tun_metadata3=0');
    assert.equal(print('tun_metadata1=1/0,actions=drop'), 'tun_metadata1');
    // An empty value is a zero mask: presence for tun_metadata, nothing for other fields.
    assert.equal(print('tun_metadata1=,actions=drop'), 'tun_metadata1');
    assert.equal(print('reg0=,actions=drop'), '');
    assert.equal(print('tun_id=5,tun_metadata2=0x1,tun_metadata1=2,actions=drop'), 'tun_id=0x5,tun_metadata1=0x2,tun_metadata2=0x1');
  });

  test('ovs-ofctl\'s refusals: too long, set twice, unknown index', () => {
    const long = `0x${'ab'.repeat(125)}`;
    assert.equal(errName(() => parseFlow(`tun_metadata1=${long},actions=drop`)), `${long}: value too large for 124-byte field tun_metadata1`);
    assert.equal(errName(() => parseFlow(`tun_metadata1=1/${long},actions=drop`)), `1/${long}: mask too large for 124-byte field tun_metadata1`);
    assert.equal(errName(() => parseFlow('tun_metadata0=1,tun_metadata1=2,tun_metadata0=3,actions=drop')), 'field tun_metadata0 set multiple times');
    assert.equal(errName(() => parseFlow('tun_metadata64=1,actions=drop')), 'unknown keyword tun_metadata64');
  });
});

describe('tun_metadata in the flow key', () => {
  // tun_metadata0: 4 bytes at 0; tun_metadata1: 8 bytes split over two pieces of option space (a fragmented table).
  const tlv: TunMetadataLayout = {
    get: (i) => (i === 0 ? { len: 4, spans: [{ offset: 0, len: 4 }] } : i === 1 ? { len: 8, spans: [{ offset: 8, len: 4 }, { offset: 252, len: 4 }] } : undefined),
  };

  test('a match lands on its mapping\'s bytes with its present bit, and comes back with the mapped length', () => {
    const m: Match = { tun_id: { value: 5n }, tun_metadata0: { value: 0x123456789n, len: 5 }, tun_metadata1: { value: 0x1200000034n, mask: 0xff000000ffn }, reg0: { value: 1n } };
    const { value, mask } = matchToKeyMask(m, tlv);
    assert.equal(tunMetadataPresentMap(mask), 3n);
    const back = {
      tun_id: { value: 5n },
      // Longer than the mapping: the leading four bytes stay (OVS's copy of the first len bytes).
      tun_metadata0: { value: 0x1234567n, len: 4 },
      tun_metadata1: { value: 0x1200000034n, mask: 0xff000000ffn, len: 8 },
      reg0: { value: 1n },
    };
    assert.deepEqual(keyMaskToMatch(value, mask, tlv), back);
    const words: number[] = [];
    mask.forEach((w, i) => { if (w) words.push(value[i]!); });
    assert.deepEqual(matchOfWords(mask, words, tlv), back);
    // Without the mapping the fields cannot be named (nor placed).
    assert.deepEqual(keyMaskToMatch(value, mask), { tun_id: { value: 5n }, reg0: { value: 1n } });
    assert.equal(errName(() => matchToKeyMask({ tun_metadata2: { value: 1n } }, tlv)), 'NXFMFC_INVALID_TLV_FIELD');
  });
});

describe('a switch with tun_metadata flows', () => {
  function setup() {
    const rundir = mkdtempSync(join(tmpdir(), 'tsw-tunmd-'));
    const of = new Ofproto({ name: 'br0', datapathId: 1n, rundir });
    const mod = (text: string, command: FlowCommand = 'add', p: Protocol = 'OpenFlow13') => {
      const wire = decodeMessage(encodeMessage(flowModMessage(parseFlow(text, command), p))) as MessageOf<'FLOW_MOD'>;
      of.flowMod(decodeFlowMod(wire, false));
    };
    const tlvMod = (command: number, maps: [number, number, number, number][]) => of.tlvTable.mod({
      command, maps: maps.map(([option_class, option_type, option_len, index]) => ({ option_class, option_type, option_len, index })),
    });
    return { of, mod, tlvMod, done: () => rmSync(rundir, { recursive: true, force: true }) };
  }

  test('flows need the mapping, hold it while they live, and give it back when deleted or changed', () => {
    const { of, mod, tlvMod, done } = setup();
    try {
      assert.equal(errName(() => mod('tun_metadata0=1,actions=drop')), 'NXFMFC_INVALID_TLV_FIELD');
      tlvMod(0, [[0xffff, 0, 4, 0], [0xffff, 1, 8, 1]]);
      mod('priority=1,tun_metadata0=0x12345678,actions=drop');
      mod('priority=2,actions=set_field:0x123456789a->tun_metadata1');
      assert.equal(errName(() => mod('priority=3,actions=move:tun_metadata0[0..63]->NXM_NX_XXREG0[0..63]')), 'OFPBAC_BAD_SET_LEN');
      assert.equal(errName(() => mod('priority=3,actions=set_field:1->tun_metadata9')), 'NXFMFC_INVALID_TLV_FIELD');
      assert.ok(of.tlvTable.inUse(0) && of.tlvTable.inUse(1));
      assert.equal(errName(() => tlvMod(2, [])), 'NXTTMFC_INVALID_TLV_DEL');
      mod('priority=2,actions=drop', 'modify_strict');
      assert.ok(!of.tlvTable.inUse(1));
      tlvMod(1, [[0xffff, 1, 8, 1]]);
      mod('tun_metadata0=0x12345678', 'delete');
      assert.ok(!of.tlvTable.inUse(0));
      tlvMod(2, []);
    } finally {
      done();
    }
  });

  test('a trace matches on tun_metadata and sets, loads and moves it', () => {
    const { of, mod, tlvMod, done } = setup();
    try {
      tlvMod(0, [[0xffff, 0, 4, 0], [0xffff, 1, 8, 1]]);
      mod('priority=10,tun_metadata0=0x1234,actions=move:tun_metadata0[0..15]->NXM_NX_REG1[0..15],set_field:0xabcdef->tun_metadata1,load:0x5->tun_metadata1[32..39],resubmit(,1)');
      mod('table=1,priority=5,tun_metadata1=0x500000000/0xff00000000,actions=move:tun_metadata1[0..31]->NXM_NX_REG2[]');
      const out = trace(of, 'in_port=2,tun_metadata0=0x1234');
      assert.match(out, / 0\. tun_metadata0=0x1234, priority 10\n/);
      assert.match(out, /NXM_NX_REG1\[0\.\.15\] is now 0x1234/);
      assert.match(out, / 1\. tun_metadata1=0x500000000\/0xff00000000, priority 5\n/);
      assert.match(out, /NXM_NX_REG2\[\] is now 0xabcdef/);
      // Without a tunnel the megaflow matches no tunnel metadata (OVS's xlate_wc_finish).
      assert.match(out, /Megaflow: recirc_id=0,eth,in_port=2,dl_type=0x0000\n/);
      // An option that is not there matches nothing.
      assert.match(trace(of, 'in_port=2,tun_metadata0=0x1235'), /No match/);
    } finally {
      done();
    }
  });
});

describe('tun_metadata as Geneve options', () => {
  const table = new TlvTable();
  table.mod({ command: 0, maps: [
    { option_class: 0xffff, option_type: 0x80, option_len: 4, index: 0 },
    { option_class: 0x0102, option_type: 0x01, option_len: 8, index: 5 },
  ] });
  const ENC: TunnelEncap = {
    kind: 'geneve', keyPresent: true, underlay: {} as XlateBridge, ethSrc: 0x02000000000an, ethDst: 0x02000000000bn,
    ipSrc: 0xac1f4001, ipDst: 0xac1f4002, vni: 7, dstPort: 6081,
  };
  const INNER = Uint8Array.from({ length: 60 }, (_, i) => i);

  test('present fields go out by field number with their mapping\'s class, type and length; the header says critical', () => {
    const key = newFlowKey();
    assert.equal(geneveOptionsOf(key, table), undefined);
    matchToKeyMask({ tun_metadata5: { value: 0x1234n } }, table).value.forEach((w, i) => { key[i] = key[i]! | w; });
    matchToKeyMask({ tun_metadata0: { value: 0xan } }, table).value.forEach((w, i) => { key[i] = key[i]! | w; });
    const opts = geneveOptionsOf(key, table)!;
    assert.equal(hex(opts), 'ffff8001' + '0000000a' + '01020102' + '0000000000001234');
    const header = tunnelHeader({ ...ENC, geneveOpts: opts });
    assert.equal(header.length, 50 + opts.length);
    assert.equal(header[42], opts.length / 4, 'option length in words');
    assert.equal(header[43], 0x40, 'critical: an option of type 0x80 is present');
    assert.match(formatTunnelHeader(header, 'geneve'), /geneve\(crit,vni=0x7,options\(\{class=0xffff,type=0x80,len=4,0xa\}\{class=0x102,type=0x1,len=8,0x1234\}\)\)\)$/);
  });

  test('received options fill the mapped fields; an unknown critical option makes the packet invalid', () => {
    const frame = encapsulate({ ...ENC, geneveOpts: new Uint8Array([...encodeGeneveOption(0xffff, 0x80, 0xan, 4), ...encodeGeneveOption(9, 1, 5n, 4)]) }, 40000, INNER);
    const d = decapsulate(frame, 'geneve')!;
    assert.deepEqual(d.inner, INNER);
    const key = newFlowKey();
    assert.equal(geneveOptionsToKey(d.opts, key, table), true, 'an unknown option without the critical bit is skipped');
    assert.ok(tunMetadataPresent(key, 0) && !tunMetadataPresent(key, 5));
    assert.equal(readTunMetadata(key, table.get(0)!), 0xan);
    // The right class and type with the wrong length is not the mapped option.
    assert.equal(geneveOptionsToKey(encodeGeneveOption(0x0102, 0x01, 1n, 4), newFlowKey(), table), true);
    assert.equal(geneveOptionsToKey(encodeGeneveOption(9, 0x81, 1n, 4), newFlowKey(), table), false);
    assert.equal(geneveOptionsToKey(encodeGeneveOption(0xffff, 0x80, 1n, 8), newFlowKey(), table), false, 'mapped length differs: unknown');
  });
});

describe('Geneve options through the datapath', () => {
  test('a decapsulated frame\'s options go up as received, every time (never cached), and leave no trace on the next frame', () => {
    const upcalls: Array<{ inPort: number; key: Uint32Array }> = [];
    const answer = (inPort: number): UpcallResult => (inPort === 1
      ? { actions: [{ type: 'tnl_pop', port: 3 }], mask: maskOf('in_port', 'ip_dst') }
      : { actions: [{ type: 'output', port: 2 }], mask: maskOf('in_port', 'tun_id', 'tun_src', 'tun_dst'), install: false });
    const dp = new DpifNetdev({ upcall: (inPort, key) => { upcalls.push({ inPort, key: key.slice() }); return answer(inPort); } });
    const out = new FakePort();
    dp.addPort('p1', 'system', new FakePort(), 1);
    dp.addPort('p2', 'system', out, 2);
    dp.addPort('genev_sys_6081', 'geneve', null, 3);
    dp.setTunnelPort(3, 'geneve');
    const inner = buildFrame({ payload: 40 });
    const frame = (opts?: Uint8Array): Uint8Array => {
      const header = tunnelHeader({
        kind: 'geneve', keyPresent: true, ethSrc: 1n, ethDst: 2n, ipSrc: 0xac1f4002, ipDst: 0xac1f4001, vni: 9, dstPort: 6081,
        ...(opts ? { geneveOpts: opts } : {}),
      });
      const b = new Uint8Array(header.length + inner.length);
      b.set(header);
      b.set(inner, header.length);
      return b;
    };
    const send = (f: Uint8Array): void => {
      const b = new FrameBatch(4, 32768);
      b.push(f, 1);
      dp.processBatch(b);
    };
    const opts = encodeGeneveOption(0xffff, 0x80, 0xan, 4);
    send(frame(opts));
    send(frame(opts));
    send(frame());
    const tunnelled = upcalls.filter((u) => u.inPort === 3);
    assert.equal(tunnelled.length, 3, 'each frame with options goes up; the one without has no cached flow to hit');
    assert.deepEqual(takeRawGeneveOptions(tunnelled[0]!.key.slice()), opts);
    assert.deepEqual(takeRawGeneveOptions(tunnelled[1]!.key.slice()), opts);
    assert.equal(takeRawGeneveOptions(tunnelled[2]!.key.slice()), null);
    assert.ok(tunnelled[2]!.key.slice(-66).every((w) => w === 0), 'no option bytes left in the key');
    assert.equal(out.sent.length, 3);
  });
});

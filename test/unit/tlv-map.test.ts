// The Geneve TLV mapping table: NXT_TLV_TABLE_MOD/REQUEST/REPLY against the
// bytes real ovs-ofctl 3.1 sends and ovs-vswitchd 3.1 replies, the printer's
// decode errors, the add-tlv-map text, and the switch's table with OVS's
// errors (already mapped, duplicate option, table full, field in use) and
// all-or-nothing mods.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FlowSyntaxError, OfError, checkTlvTableMod, decodeMessage, encodeMessage, formatTlvMapping, parseTlvMappings,
  type OfMessage, type TlvMap,
} from '../../src/openflow/index.js';
import { ofpToString } from '../../src/openflow/print/index.js';
import { TlvTable } from '../../src/ofproto/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16)));
const map = (option_class: number, option_type: number, option_len: number, index: number): TlvMap => ({ option_class, option_type, option_len, index });

function errName(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OfError) return e.error;
    throw e;
  }
  return 'no error';
}

describe('TLV table messages on the wire', () => {
  // What `ovs-ofctl add-tlv-map br0 "{class=0xffff,type=2,len=5}->tun_metadata2"` sent (OF1.0).
  const modOf10 = hex('01 04 00 20 00 00 00 04 00 00 23 20 00 00 00 18 00 00 00 00 00 00 00 00 ff ff 02 05 00 02 00 00');
  // `-O OpenFlow15 del-tlv-map br0 "{class=1,type=1,len=7}->tun_metadata0"`.
  const delOf15 = hex('06 04 00 20 00 00 00 02 00 00 23 20 00 00 00 18 00 01 00 00 00 00 00 00 00 01 01 07 00 00 00 00');
  // ovs-vswitchd's reply to dump-tlv-map with two mappings, OF1.0 and OF1.3.
  const replyBody = '00 00 01 00 00 40 00 00 00 00 00 00 00 00 00 00 ff ff 00 04 00 00 00 00 01 02 80 7c 00 3f 00 00';
  const replyOf10 = hex('01 04 00 30 00 00 00 02 00 00 23 20 00 00 00 1a ' + replyBody);
  const replyOf13 = hex('04 04 00 30 00 00 00 02 00 00 23 20 00 00 00 1a ' + replyBody);

  test('a table mod from ovs-ofctl decodes to its command and mappings and encodes back byte for byte', () => {
    const m = decodeMessage(modOf10);
    assert.equal(m.kind, 'NXT_TLV_TABLE_MOD');
    assert.deepEqual(m.body, { command: 0, maps: [map(0xffff, 2, 5, 2)] });
    assert.deepEqual(encodeMessage(m), modOf10);
    const d = decodeMessage(delOf15);
    assert.equal(d.version, 6);
    assert.deepEqual(d.body, { command: 1, maps: [map(1, 1, 7, 0)] });
    assert.deepEqual(encodeMessage(d), delOf15);
  });

  test('the reply OVS sends encodes from its values in OF1.0 and OF1.3 (experimenter form)', () => {
    const body = { max_option_space: 256, max_fields: 64, maps: [map(0xffff, 0, 4, 0), map(0x102, 0x80, 124, 63)] };
    for (const [version, bytes] of [[1, replyOf10], [4, replyOf13]] as const) {
      const m = { version, xid: 2, kind: 'NXT_TLV_TABLE_REPLY', body } as OfMessage;
      assert.deepEqual(encodeMessage(m), bytes);
      assert.deepEqual(decodeMessage(bytes).body, body);
    }
  });

  test('request, clear and an empty add round-trip in every version', () => {
    for (const version of [1, 4, 5, 6]) {
      for (const m of [
        { version, xid: 9, kind: 'NXT_TLV_TABLE_REQUEST', body: {} },
        { version, xid: 9, kind: 'NXT_TLV_TABLE_MOD', body: { command: 2, maps: [] } },
        { version, xid: 9, kind: 'NXT_TLV_TABLE_MOD', body: { command: 0, maps: [map(0, 0, 0, 0), map(0xffff, 0xff, 124, 63)] } },
      ] as OfMessage[]) {
        const bytes = encodeMessage(m);
        assert.deepEqual(decodeMessage(bytes), m);
        assert.equal(bytes.length % 8, 0);
      }
    }
  });

  test('a mapping cut short is a length error', () => {
    const cut = modOf10.slice(0, 28);
    new DataView(cut.buffer).setUint16(2, 28);
    assert.equal(errName(() => decodeMessage(cut)), 'OFPBRC_BAD_LEN');
  });

  test('printing: ovs-ofctl\'s text for the reply, and its decode errors for what OVS cannot read', () => {
    assert.equal(ofpToString(replyOf13), [
      'NXT_TLV_TABLE_REPLY (OF1.3) (xid=0x2):',
      ' max option space=256 max fields=64',
      ' allocated option space=128',
      '',
      ' mapping table:',
      '  class  type  length  match field',
      ' ------  ----  ------  --------------',
      ' 0xffff     0       4  tun_metadata0',
      '  0x102  0x80     124  tun_metadata63',
      '',
    ].join('\n'));
    assert.match(ofpToString(modOf10), /^NXT_TLV_TABLE_MOD \(xid=0x4\): \*\*\*decode error: NXTTMFC_BAD_OPT_LEN\*\*\*\n00000000 {2}01 04/);
    const badCommand = hex('01 04 00 18 00 00 00 07 00 00 23 20 00 00 00 18 00 03 00 00 00 00 00 00');
    assert.match(ofpToString(badCommand), /^NXT_TLV_TABLE_MOD \(xid=0x7\): \*\*\*decode error: NXTTMFC_BAD_COMMAND\*\*\*\n/);
    // A reply's indexes are bounded by its own max_fields (5 here).
    const badReply = hex('01 04 00 28 00 00 00 07 00 00 23 20 00 00 00 1a 00 00 01 00 00 05 00 00 00 00 00 00 00 00 00 00 00 01 02 04 00 05 00 00');
    assert.match(ofpToString(badReply), /^NXT_TLV_TABLE_REPLY \(xid=0x7\): \*\*\*decode error: NXTTMFC_BAD_FIELD_IDX\*\*\*\n/);
    assert.equal(ofpToString(encodeMessage({ version: 1, xid: 3, kind: 'NXT_TLV_TABLE_MOD', body: { command: 2, maps: [] } } as OfMessage)),
      'NXT_TLV_TABLE_MOD (xid=0x3):\n CLEAR\n');
  });
});

describe('add-tlv-map text', () => {
  test('mappings read as ovs-ofctl reads them: C %i numbers that wrap, blanks only before numbers', () => {
    assert.deepEqual(parseTlvMappings('{class=0xffff,type=0,len=4}->tun_metadata0'), [map(0xffff, 0, 4, 0)]);
    assert.deepEqual(parseTlvMappings('{class=1,type=2,len=4}->tun_metadata3,{class=2,type=3,len=124}->tun_metadata4'),
      [map(1, 2, 4, 3), map(2, 3, 124, 4)]);
    assert.deepEqual(parseTlvMappings('{class=0x10002,type=263,len=260}->tun_metadata65543'), [map(2, 7, 4, 7)]);
    assert.deepEqual(parseTlvMappings('{class=-1,type= 010,len=+4}->tun_metadata1'), [map(0xffff, 8, 4, 1)]);
    assert.deepEqual(parseTlvMappings(''), []);
    for (const bad of ['bogus', '{class=1,type=7,len=4}->tun_metadata7,', '{class=1, type=7,len=4}->tun_metadata7',
      '{class=0x,type=7,len=4}->tun_metadata7', '{class=1,type=1,len=4}->tun_metadata10xyz', '{class=1,type=1,len=4}->tun_metadata']) {
      assert.throws(() => parseTlvMappings(bad), (e: unknown) => e instanceof FlowSyntaxError && e.message === 'invalid tlv mapping', bad);
    }
  });

  test('a formatted mapping reads back the same', () => {
    const m = map(0x1234, 0x56, 12, 42);
    assert.deepEqual(parseTlvMappings(formatTlvMapping(m)), [m]);
  });
});

describe('a switch\'s TLV table', () => {
  const add = (...maps: TlvMap[]) => ({ command: 0, maps });
  const del = (...maps: TlvMap[]) => ({ command: 1, maps });

  test('mapped options are found both ways and listed in the reply by index', () => {
    const t = new TlvTable();
    t.mod(add(map(0x102, 0x80, 8, 5), map(0xffff, 0, 4, 0)));
    assert.deepEqual(t.get(5), { index: 5, optionClass: 0x102, optionType: 0x80, len: 8, spans: [{ offset: 0, len: 8 }] });
    assert.equal(t.indexOf(0xffff, 0), 0);
    assert.equal(t.indexOf(0xffff, 1), undefined);
    assert.equal(t.get(1), undefined);
    assert.equal(t.allocatedSpace, 12);
    assert.deepEqual(t.reply(), { max_option_space: 256, max_fields: 64, maps: [map(0xffff, 0, 4, 0), map(0x102, 0x80, 8, 5)] });
  });

  test('a taken index, a mapped (class, type) and a full option space are refused, and nothing of the mod stays', () => {
    const t = new TlvTable();
    t.mod(add(map(0xffff, 0, 4, 0)));
    assert.equal(errName(() => t.mod(add(map(0xffff, 1, 8, 0)))), 'NXTTMFC_ALREADY_MAPPED');
    assert.equal(errName(() => t.mod(add(map(0xffff, 0, 8, 1)))), 'NXTTMFC_DUP_ENTRY');
    assert.equal(errName(() => t.mod(add(map(1, 1, 4, 7), map(1, 2, 4, 7)))), 'NXTTMFC_ALREADY_MAPPED');
    assert.equal(errName(() => t.mod(add(map(1, 1, 4, 7), map(1, 1, 4, 8)))), 'NXTTMFC_DUP_ENTRY');
    t.mod(add(map(1, 1, 124, 1), map(1, 2, 124, 2)));
    assert.equal(t.allocatedSpace, 252);
    const version = t.version;
    assert.equal(errName(() => t.mod(add(map(1, 3, 0, 3), map(1, 4, 8, 4)))), 'NXTTMFC_TABLE_FULL');
    assert.equal(t.version, version);
    assert.equal(t.get(3), undefined, 'the first mapping of a failed mod is not kept');
    t.mod(add(map(1, 4, 4, 4)));
    assert.equal(t.allocatedSpace, 256);
    assert.equal(errName(() => t.mod(add(map(1, 5, 4, 5)))), 'NXTTMFC_TABLE_FULL');
    t.mod(add(map(1, 6, 0, 6)));
    assert.equal(t.get(6)?.len, 0, 'a zero-length option takes no space');
  });

  test('64 four-byte options fill the table exactly', () => {
    const t = new TlvTable();
    t.mod(add(...Array.from({ length: 64 }, (_, i) => map(0x100, i, 4, i))));
    assert.equal(t.mappings().length, 64);
    assert.equal(t.allocatedSpace, 256);
  });

  test('an option larger than any free run is spread over the holes, as OVS chains them', () => {
    const t = new TlvTable();
    t.mod(add(map(1, 1, 8, 0), map(1, 2, 8, 1), map(1, 3, 8, 2), map(1, 4, 124, 3), map(1, 5, 100, 4)));
    t.mod(del(map(0, 0, 0, 0), map(0, 0, 0, 2)));
    t.mod(add(map(1, 6, 12, 5)));
    assert.deepEqual(t.get(5)?.spans, [{ offset: 0, len: 8 }, { offset: 16, len: 4 }]);
    t.mod(add(map(1, 7, 4, 6)));
    assert.deepEqual(t.get(6)?.spans, [{ offset: 20, len: 4 }]);
  });

  test('deleting an unmapped index is fine; deleting or clearing a field a flow uses is not', () => {
    const t = new TlvTable();
    t.mod(del(map(0xffff, 2, 4, 5)));
    t.mod(add(map(0xffff, 0, 4, 0), map(0xffff, 1, 4, 1)));
    assert.equal(errName(() => t.ref(2)), 'NXFMFC_INVALID_TLV_FIELD');
    t.ref(1);
    assert.ok(t.inUse(1));
    assert.equal(errName(() => t.mod(del(map(0, 0, 0, 0), map(0, 0, 0, 1)))), 'NXTTMFC_INVALID_TLV_DEL');
    assert.equal(t.get(0)?.optionType, 0, 'a refused delete removes nothing');
    assert.equal(errName(() => t.mod({ command: 2, maps: [] })), 'NXTTMFC_INVALID_TLV_DEL');
    t.unref(1);
    t.mod(del(map(0, 0, 0, 0)));
    assert.equal(t.indexOf(0xffff, 0), undefined);
    t.mod({ command: 2, maps: [] });
    assert.deepEqual(t.mappings(), []);
    assert.equal(t.allocatedSpace, 0);
  });

  test('a malformed mod is refused with the decoder\'s error before anything changes', () => {
    const t = new TlvTable();
    assert.equal(errName(() => t.mod({ command: 3, maps: [] })), 'NXTTMFC_BAD_COMMAND');
    assert.equal(errName(() => t.mod(add(map(1, 1, 4, 0), map(1, 2, 5, 1)))), 'NXTTMFC_BAD_OPT_LEN');
    assert.equal(errName(() => t.mod(add(map(1, 2, 128, 1)))), 'NXTTMFC_BAD_OPT_LEN');
    assert.equal(errName(() => t.mod(del(map(1, 2, 4, 64)))), 'NXTTMFC_BAD_FIELD_IDX');
    // Per mapping, the length is looked at before the index.
    assert.equal(errName(() => checkTlvTableMod(add(map(1, 2, 6, 64)))), 'NXTTMFC_BAD_OPT_LEN');
    assert.deepEqual(t.mappings(), []);
  });
});

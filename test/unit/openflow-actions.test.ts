import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OfError, actionList, instructionList, encode, decode, encodeMessage, decodeMessage,
  type Action, type Instruction, type OfErrorName,
} from '../../src/openflow/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function expectOfError(fn: () => unknown, error: OfErrorName): void {
  assert.throws(fn, (e: unknown) => e instanceof OfError && e.error === error, error);
}

test('golden: OF1.0 and OF1.3 action encodings', () => {
  assert.equal(hex(encode(actionList(1), [{ type: 'output', port: 2, max_len: 0 }])), '0000000800020000');
  assert.equal(hex(encode(actionList(1), [{ type: 'strip_vlan' }, { type: 'set_dl_dst', dl_addr: '02:00:00:00:00:09' }])),
    '0003000800000000' + '0005001002000000000900000000' + '0000');
  assert.equal(hex(encode(actionList(4), [{ type: 'output', port: 0xfffffffd, max_len: 0xffe5 }])), '00000010fffffffdffe5000000000000');
  assert.equal(hex(encode(actionList(4), [{ type: 'push_vlan', ethertype: 0x8100 }, { type: 'group', group_id: 7 }])),
    '0011000881000000' + '0016000800000007');
  // set_field: the OXM entry, padded to 8 (4 + 6 = 10 -> 16).
  assert.equal(hex(encode(actionList(4), [{ type: 'set_field', field: { field: 'vlan_vid', value: 0x1064n } }])),
    '0019001080000c021064000000000000');
  // set_field of a Nicira register uses its NXM header.
  assert.equal(hex(encode(actionList(4), [{ type: 'set_field', field: { field: 'reg0', value: 5n } }])),
    '001900100001000400000005' + '00000000');
  assert.equal(hex(encode(actionList(6), [{ type: 'meter', meter_id: 1 }])), '001d000800000001');
});

test('golden: the apply_actions(output:NORMAL) instruction from the OVS flow-stats reply', () => {
  const b = unhex('000400180000000000000010fffffffa0000000000000000');
  const want: Instruction[] = [{ type: 'apply_actions', actions: [{ type: 'output', port: 0xfffffffa, max_len: 0 }] }];
  assert.deepEqual(decode(instructionList(4), b), want);
  assert.equal(hex(encode(instructionList(4), want)), hex(b));
  assert.equal(hex(encode(instructionList(4), [{ type: 'goto_table', table_id: 3 }])), '0001000803000000');
  assert.equal(hex(encode(instructionList(4), [{ type: 'write_metadata', metadata: 1n, metadata_mask: 0xffn }])),
    '00020018' + '00000000' + '0000000000000001' + '00000000000000ff');
});

test('an OF1.3 FLOW_MOD shaped like ovs-ofctl add-flow br0 "in_port=1,actions=output:2" (field by field)', () => {
  const bytes = encodeMessage({
    version: 4, xid: 2, kind: 'FLOW_MOD',
    body: {
      cookie: 0n, cookie_mask: 0n, table_id: 0, command: 0, idle_timeout: 0, hard_timeout: 0, priority: 0x8000,
      buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
      match: { in_port: { value: 1n } },
      instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, max_len: 0 }] }],
    },
  });
  assert.equal(hex(bytes),
    '040e005800000002' + '0000000000000000' + '0000000000000000' + '0000' + '0000' + '0000' + '8000' + 'ffffffff' + 'ffffffff' + 'ffffffff' + '0000' + '0000'
    + '0001000c' + '8000000400000001' + '00000000'
    + '00040018' + '00000000' + '00000010' + '00000002' + '0000' + '000000000000');
  const back = decodeMessage(bytes);
  assert.equal(back.kind, 'FLOW_MOD');
  assert.deepEqual(encodeMessage(back), bytes);
});

test('bad actions and instructions map to BAD_ACTION / BAD_INSTRUCTION codes', () => {
  const acts = (v: number, h: string) => () => decode(actionList(v), unhex(h));
  expectOfError(acts(4, '0000'), 'OFPBAC_BAD_LEN'); // truncated header
  expectOfError(acts(4, '0000000800000002'), 'OFPBAC_BAD_LEN'); // OF1.3 output needs 16
  expectOfError(acts(4, '0000000c00000002ffe50000'), 'OFPBAC_BAD_LEN'); // not a multiple of 8
  expectOfError(acts(4, '0000001800000002ffe5000000000000'), 'OFPBAC_BAD_LEN'); // overruns the list
  expectOfError(acts(4, '0000000000000000'), 'OFPBAC_BAD_LEN'); // zero length (would loop)
  expectOfError(acts(4, '0063000800000000'), 'OFPBAC_BAD_TYPE');
  expectOfError(acts(1, '0019001080000c021064000000000000'), 'OFPBAC_BAD_TYPE'); // no set_field in OF1.0
  expectOfError(acts(4, '001d000800000001'), 'OFPBAC_BAD_TYPE'); // meter action is OF1.5
  expectOfError(acts(4, '0019001080007e021064000000000000'), 'OFPBAC_BAD_SET_TYPE'); // unknown OXM field
  expectOfError(acts(4, '0019001080000c031064000000000000'), 'OFPBAC_BAD_SET_LEN'); // vlan_vid with length 3
  expectOfError(acts(4, '0019001080000e010800000000000000'), 'OFPBAC_BAD_SET_ARGUMENT'); // vlan_pcp 8
  expectOfError(acts(4, '001900188000000400000001' + '000000000000000000000000'), 'OFPBAC_BAD_LEN'); // 8+ bytes after the OXM

  const insts = (h: string) => () => decode(instructionList(4), unhex(h));
  expectOfError(insts('0001000803'), 'OFPBIC_BAD_LEN');
  expectOfError(insts('0001000c03000000'), 'OFPBIC_BAD_LEN');
  expectOfError(insts('0009000800000000'), 'OFPBIC_UNKNOWN_INST');
  expectOfError(insts('0001000803000000' + '0001000804000000'), 'OFPBIC_DUP_INST');
  // An action error inside apply_actions is reported as the action error.
  expectOfError(insts('00040010' + '00000000' + '0063000800000000'), 'OFPBAC_BAD_TYPE');
  expectOfError(() => decode(instructionList(6), unhex('0006000800000001')), 'OFPBIC_UNKNOWN_INST'); // meter instruction gone in 1.5
});

test('encoding an action the version does not have is a programming error', () => {
  const meter: Action = { type: 'meter', meter_id: 1 };
  assert.throws(() => encode(actionList(4), [meter]), RangeError);
  assert.throws(() => encode(actionList(1), [{ type: 'group', group_id: 1 }]), RangeError);
});

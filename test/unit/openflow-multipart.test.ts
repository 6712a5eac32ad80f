// Multipart splitting and reassembly for every list kind, Nicira golden bytes
// as ovs-ofctl sends them, and typed errors from the new length fields.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OfError, MultipartAssembler, OFPMPF_REQ_MORE, actionList, decode, decodeMessage, encodeMessage, splitMultipartReply,
  type MultipartReply, type MultipartRequest, type OfErrorName, type OfMessage, type TableFeatures,
} from '../../src/openflow/index.js';
import { TABLE_FEATURES_SAMPLE } from './openflow-samples.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
function expectOfError(fn: () => unknown, error: OfErrorName): void {
  assert.throws(fn, (e: unknown) => e instanceof OfError && e.error === error, error);
}

test('a 254-table TABLE_FEATURES request is split with REQ_MORE into <=65535-byte messages and put back together', () => {
  const entries: TableFeatures[] = Array.from({ length: 254 }, (_, i) => ({
    ...TABLE_FEATURES_SAMPLE, table_id: i, name: `table${i}`,
    properties: [...TABLE_FEATURES_SAMPLE.properties, { type: 2, table_ids: Array.from({ length: 253 - Math.min(i, 252) }, (_, j) => i + 1 + j) }],
  }));
  for (const version of [4, 5, 6]) {
    const whole: MultipartRequest = { stat: 'TABLE_FEATURES', flags: 0, body: { entries } };
    const parts = splitMultipartReply(whole, version, undefined, 'request');
    assert.ok(parts.length > 1);
    const asm = new MultipartAssembler();
    let got: MultipartRequest | undefined;
    parts.forEach((p, i) => {
      const bytes = encodeMessage({ version, xid: 7, kind: 'MULTIPART_REQUEST', body: p });
      assert.ok(bytes.length <= 65535);
      const back = decodeMessage(bytes);
      assert.ok(back.kind === 'MULTIPART_REQUEST');
      if (back.kind !== 'MULTIPART_REQUEST') return;
      assert.equal((back.body.flags & OFPMPF_REQ_MORE) !== 0, i < parts.length - 1);
      got = asm.push(7, back.body);
    });
    assert.deepEqual(got, whole);
  }
});

test('list replies split and reassemble (OF1.0 flow stats, NXST_FLOW, meter config, flow monitor)', () => {
  const flow10 = { table_id: 0, match: {}, duration_sec: 1, duration_nsec: 0, priority: 1, idle_timeout: 0, hard_timeout: 0, cookie: 0n, packet_count: 0n, byte_count: 0n, actions: [{ type: 'output' as const, port: 1, max_len: 0 }] };
  const nxFlow = { table_id: 0, duration_sec: 1, duration_nsec: 0, priority: 1, idle_timeout: 0, hard_timeout: 0, idle_age: 0, hard_age: 0, cookie: 0n, packet_count: 0n, byte_count: 0n, match: { reg0: { value: 1n } }, actions: [{ type: 'resubmit_table' as const, in_port: 0xfff8, table: 1 }] };
  const cases: Array<[number, MultipartReply]> = [
    [1, { stat: 'FLOW', flags: 0, body: { entries: Array(1000).fill(flow10) } }],
    [1, { stat: 'NX_FLOW', flags: 0, body: { entries: Array(1200).fill(nxFlow) } }],
    [4, { stat: 'METER_CONFIG', flags: 0, body: { entries: Array(3000).fill({ flags: 1, meter_id: 1, bands: [{ type: 1, rate: 1, burst_size: 0 }] }) } }],
    [5, { stat: 'FLOW_MONITOR', flags: 0, body: { entries: Array(9000).fill({ event: 4, xid: 1 }) } }],
  ];
  for (const [version, reply] of cases) {
    const parts = splitMultipartReply(reply, version);
    assert.ok(parts.length > 1, reply.stat);
    const asm = new MultipartAssembler();
    let got: MultipartReply | undefined;
    for (const p of parts) {
      const back = decodeMessage(encodeMessage({ version, xid: 1, kind: 'MULTIPART_REPLY', body: p }));
      if (back.kind === 'MULTIPART_REPLY') got = asm.push(1, back.body);
    }
    assert.deepEqual(got, reply, reply.stat);
  }
});

test('golden: Nicira messages exactly as ovs-ofctl 3.1 sends them', () => {
  const cases: Array<[string, OfMessage]> = [
    ['0104001400000002000023200000000c00000002', { version: 1, xid: 2, kind: 'NXT_SET_FLOW_FORMAT', body: { format: 2 } }],
    ['0110002000000004ffff0000000023200000000000000000ffff0000ff000000',
      { version: 1, xid: 4, kind: 'MULTIPART_REQUEST', body: { stat: 'NX_FLOW', flags: 0, body: { out_port: 0xffff, table_id: 0xff, match: {} } } }],
    ['0412001000000002000c000000000000', { version: 4, xid: 2, kind: 'MULTIPART_REQUEST', body: { stat: 'TABLE_FEATURES', flags: 0, body: { entries: [] } } }],
  ];
  for (const [h, m] of cases) {
    assert.deepEqual(decodeMessage(unhex(h)), m);
    assert.equal(hex(encodeMessage(m)), h);
  }
  // resubmit(,3) and load:5->NXM_NX_REG2[0..7] as OF1.0 Nicira actions.
  const wire = 'ffff001000002320000efff803000000' + 'ffff001800002320000700070001040400000000' + '00000005';
  const acts = decode(actionList(1), unhex(wire));
  assert.deepEqual(acts, [
    { type: 'resubmit_table', in_port: 0xfff8, table: 3 },
    { type: 'reg_load', ofs_nbits: 7, dst: 0x00010404, value: 5n },
  ]);
});

test('bad Nicira actions and inner lengths are typed errors with the codes OVS uses', () => {
  const acts = (h: string) => () => decode(actionList(1), unhex(h));
  expectOfError(acts('ffff0010000023200fff000000000000'), 'OFPBAC_BAD_VENDOR_TYPE'); // unknown Nicira subtype
  expectOfError(acts('ffff0010000023200001'), 'OFPBAC_BAD_LEN'); // truncated
  // learn with a spec header whose destination type is 3 (reserved)
  expectOfError(acts('ffff0028000023200010' + '00'.repeat(22) + '1801' + '00'.repeat(6)), 'OFPBAC_BAD_ARGUMENT');
  // bundle announcing 1000 members in a 32-byte action
  expectOfError(acts('ffff002000002320000c' + '0000' + '0000' + '0000' + '00000000' + '03e8' + '0000' + '00000000' + '00000000'), 'OFPBAC_BAD_LEN');
  // PACKET_OUT whose actions_len overruns the message
  const po = encodeMessage({ version: 4, xid: 1, kind: 'PACKET_OUT', body: { buffer_id: 0xffffffff, in_port: 1, actions: [], data: new Uint8Array(4) } });
  po[8 + 8] = 0x01;
  expectOfError(() => decodeMessage(po), 'OFPBRC_BAD_LEN');
  // BUNDLE_ADD_MESSAGE whose inner message claims more bytes than there are
  const ba = encodeMessage({
    version: 5, xid: 1, kind: 'BUNDLE_ADD_MESSAGE',
    body: { bundle_id: 1, flags: 0, message: { version: 5, xid: 2, kind: 'BARRIER_REQUEST', body: {} }, properties: [] },
  });
  ba[16 + 3] = 0x40;
  expectOfError(() => decodeMessage(ba), 'OFPBFC_MSG_BAD_LEN');
});

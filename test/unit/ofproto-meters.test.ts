// The meter table: METER_MOD commands and OVS 3.1's error for each bad one
// (recorded from ovs-vswitchd's userspace datapath; the interop test checks
// them against the daemon), token-bucket rate limiting in kbps and pktps on
// a fake clock, burst sizes, band choice, counters and the replies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OfError, decodeMessage, encodeMessage, meterModMessage, parseMeterMod,
  type MessageOf, type MeterCommand, type MeterMod, type OfMessage,
} from '../../src/openflow/index.js';
import { MeterTable, type MeterTableOptions } from '../../src/ofproto/meters.js';

const OFPM_ALL = 0xffffffff;

/** A METER_MOD as it arrives from the wire. */
function mod(text: string, command: MeterCommand = 'add', tweak?: (b: MeterMod) => void, v = 4): MessageOf<'METER_MOD'> {
  const msg = meterModMessage(parseMeterMod(text, command), v);
  tweak?.(msg.body as MeterMod);
  return decodeMessage(encodeMessage(msg)) as MessageOf<'METER_MOD'>;
}

function setup(opts: MeterTableOptions = {}) {
  const deleted: number[][] = [];
  let clock = 1000;
  const table = new MeterTable({ onDeleted: (ids) => deleted.push(ids), now: () => clock, ...opts });
  return { table, deleted, tick: (ms: number) => { clock += ms; }, now: () => clock };
}

function errorOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof OfError) return e.error;
    throw e;
  }
}

const rawBand = (type: number, bytes = 12) => ({ type, data: new Uint8Array(bytes), raw: true as const });

/** [what, text, command, tweak, OVS 3.1's answer (userspace datapath)]; meter 1 exists beforehand. */
const ERRORS: Array<[string, string, MeterCommand, ((b: MeterMod) => void) | undefined, string | null]> = [
  ['an existing meter', 'meter=1,pktps,bands=type=drop,rate=10', 'add', undefined, 'OFPMMFC_METER_EXISTS'],
  ['modify of a missing meter', 'meter=2,kbps,bands=type=drop,rate=1000', 'modify', undefined, 'OFPMMFC_UNKNOWN_METER'],
  ['delete of a missing meter', 'meter=99', 'delete', undefined, null],
  ['delete of meter 0', 'meter=1', 'delete', (b) => { b.meter_id = 0; }, null],
  ['meter 0', 'meter=1,kbps,bands=type=drop,rate=1', 'add', (b) => { b.meter_id = 0; }, 'OFPMMFC_INVALID_METER'],
  ['a meter past OFPM_MAX', 'meter=1,kbps,bands=type=drop,rate=1', 'add', (b) => { b.meter_id = 0xffff0001; }, 'OFPMMFC_INVALID_METER'],
  ['OFPM_ALL', 'meter=1,kbps,bands=type=drop,rate=1', 'add', (b) => { b.meter_id = OFPM_ALL; }, 'OFPMMFC_INVALID_METER'],
  ['the slowpath meter', 'meter=slowpath,pktps,bands=type=drop,rate=100', 'add', undefined, null],
  ['the controller meter', 'meter=controller,pktps,bands=type=drop,rate=100', 'add', undefined, null],
  ['kbps and pktps', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.flags = 3; }, 'OFPMMFC_BAD_FLAGS'],
  ['neither kbps nor pktps', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.flags = 8; }, 'OFPMMFC_BAD_FLAGS'],
  ['an unknown flag', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.flags = 0x11; }, 'OFPMMFC_BAD_FLAGS'],
  ['no bands', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.bands = []; }, 'OFPMMFC_OUT_OF_BANDS'],
  ['nine bands', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.bands = Array.from({ length: 9 }, () => b.bands[0]!); }, 'OFPMMFC_OUT_OF_BANDS'],
  ['rate 0', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.bands = [{ type: 1, rate: 0, burst_size: 0 }]; }, 'OFPMMFC_BAD_RATE'],
  ['a dscp_remark band (the userspace datapath only drops)', 'meter=3,kbps,bands=type=dscp_remark,rate=100,prec_level=1', 'add', undefined, 'OFPMMFC_BAD_BAND'],
  ['band type 3', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.bands = [rawBand(3)]; }, 'OFPMMFC_BAD_BAND'],
  ['a 24-byte band', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.bands = [rawBand(3, 20)]; }, 'OFPBRC_BAD_LEN'],
  ['command 5', 'meter=3,kbps,bands=type=drop,rate=1', 'add', (b) => { b.command = 5; }, 'OFPMMFC_BAD_COMMAND'],
  ['a bad modify', 'meter=1,kbps,bands=type=drop,rate=1', 'modify', (b) => { b.bands = [{ type: 1, rate: 0, burst_size: 0 }]; }, 'OFPMMFC_BAD_RATE'],
];

test('every bad meter mod gets the error OVS 3.1 sends, and changes nothing', () => {
  for (const [what, text, command, tweak, expected] of ERRORS) {
    const { table } = setup();
    table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=1000'));
    const before = JSON.stringify(table.configReply({ id: OFPM_ALL }, 4));
    assert.equal(errorOf(() => table.handleMeterMod(mod(text, command, tweak))), expected, what);
    if (expected) assert.equal(JSON.stringify(table.configReply({ id: OFPM_ALL }, 4)), before, `${what} leaves the table alone`);
  }
});

test('add, modify and delete; deleting one or all meters tells the core which went', () => {
  const { table, deleted } = setup({ maxMeters: 3 });
  table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=1000'));
  table.handleMeterMod(mod('meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=20'));
  table.handleMeterMod(mod('meter=3,pktps,bands=type=drop,rate=10'));
  assert.equal(errorOf(() => table.handleMeterMod(mod('meter=4,pktps,bands=type=drop,rate=10'))), 'OFPMMFC_OUT_OF_METERS');
  table.handleMeterMod(mod('meter=1,pktps,bands=type=drop,rate=10', 'modify'));
  assert.equal(table.get(1)!.flags, 2);
  table.handleMeterMod(mod('meter=3', 'delete'));
  assert.deepEqual(deleted, [[3]]);
  table.handleMeterMod(mod('meter=4,pktps,bands=type=drop,rate=10'));
  table.handleMeterMod(mod('meter=all', 'delete'));
  assert.deepEqual(deleted, [[3], [1, 2, 4]]);
  assert.equal(table.size, 0);
});

test('a kbps meter passes its burst at once, then holds traffic to its rate', () => {
  const { table, tick, now } = setup();
  table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=1000'));
  // No burst given: OVS uses the rate, 1000 kbit = 125000 bytes, and starts with a full bucket.
  let passed = 0;
  for (let i = 0; i < 100; i++) if (!table.apply(1, 1500, now())!.drop) passed++;
  assert.equal(passed, 83, '83 full-size frames fit in 125000 bytes');
  passed = 0;
  for (let ms = 0; ms < 10_000; ms++) {
    tick(1);
    if (!table.apply(1, 1500, now())!.drop) passed++;
  }
  // 1000 bits come in per millisecond; 4000 were left over.
  assert.equal(passed, Math.floor((4000 + 10_000 * 1000) / 12_000));
  const kbps = (passed * 1500 * 8) / 10 / 1000;
  assert.ok(Math.abs(kbps - 1000) < 10, `measured ${kbps} kbps`);
  assert.equal(table.apply(9, 1500, now()), null, 'no such meter: no verdict');
});

test('a pktps meter with a burst passes the burst, a steady rate after, and no more than the burst after idling', () => {
  const { table, tick, now } = setup();
  table.handleMeterMod(mod('meter=1,pktps,burst,bands=type=drop,rate=100,burst_size=10'));
  const verdicts = Array.from({ length: 12 }, () => table.apply(1, 64, now())!.drop);
  assert.deepEqual(verdicts, [...Array(10).fill(false), true, true]);
  let passed = 0;
  for (let ms = 0; ms < 1000; ms++) {
    tick(1);
    if (!table.apply(1, 64, now())!.drop) passed++;
  }
  assert.equal(passed, 100);
  tick(60_000);
  const burst = Array.from({ length: 15 }, () => table.apply(1, 64, now())!.drop).filter((d) => !d).length;
  assert.equal(burst, 10, 'an idle meter fills up to its burst and no further');
  const m = table.get(1)!;
  assert.deepEqual([m.packets, m.bytes, m.bands[0]!.packets, m.bands[0]!.bytes], [1027, 1027 * 64, 907, 907 * 64]);
  // Fractions of a millisecond do not refill (the datapath counts whole milliseconds).
  tick(0.5);
  assert.equal(table.apply(1, 64, now())!.drop, true);
});

test('when several bands are exceeded, the one with the highest rate fires', () => {
  const { table, now } = setup();
  table.handleMeterMod(mod('meter=1,pktps,burst,bands=type=drop,rate=10,burst_size=1,type=drop,rate=100,burst_size=5'));
  const drops = Array.from({ length: 8 }, () => table.apply(1, 100, now())!.drop);
  assert.deepEqual(drops, [false, true, true, true, true, true, true, true]);
  const [b0, b1] = table.get(1)!.bands;
  assert.deepEqual([b0!.packets, b1!.packets], [4, 3], 'the slow band fires until the fast one is exceeded too');
  assert.deepEqual(table.statsReply({ id: 1 }, 4)[0]!.band_stats, [
    { packet_band_count: 4n, byte_band_count: 400n }, { packet_band_count: 3n, byte_band_count: 300n },
  ]);
});

test('dscp_remark bands, where the table is built to offer them, remark instead of dropping', () => {
  const { table, now } = setup({ bandTypes: ['drop', 'dscp_remark'] });
  assert.equal(table.featuresReply(4).band_types, 6);
  table.handleMeterMod(mod('meter=1,pktps,burst,bands=type=dscp_remark,rate=10,burst_size=1,prec_level=2,type=drop,rate=100,burst_size=3'));
  const v = Array.from({ length: 4 }, () => table.apply(1, 100, now()));
  assert.deepEqual(v, [{ drop: false }, { drop: false, dscpRemark: 2 }, { drop: false, dscpRemark: 2 }, { drop: true }]);
  assert.deepEqual(table.configReply({ id: 1 }, 4)[0]!.bands[0], { type: 2, rate: 10, burst_size: 1, prec_level: 2 });
});

test('a batch is metered as the datapath meters it: the same as packet by packet at one instant', () => {
  const a = setup();
  const b = setup();
  for (const s of [a, b]) s.table.handleMeterMod(mod('meter=7,kbps,burst,bands=type=drop,rate=800,burst_size=40'));
  let seed = 7;
  for (let round = 0; round < 200; round++) {
    const sizes = Array.from({ length: 32 }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return 60 + (seed % 1440);
    });
    const out = new Uint8Array(32);
    assert.ok(a.table.applyBatch(7, sizes, 32, a.now(), out));
    const one = sizes.map((n) => (b.table.apply(7, n, b.now())!.drop ? 1 : 0));
    assert.deepEqual([...out], one);
    a.tick(3);
    b.tick(3);
  }
  assert.equal(a.table.applyBatch(8, [1], 1, a.now(), new Uint8Array(1)), false);
});

test('statistics and configuration replies: counters, flows using the meter, age, the burst OVS fills in', () => {
  const { table, tick, now } = setup();
  table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=1000'));
  table.handleMeterMod(mod('meter=2,pktps,burst,stats,bands=type=drop,rate=10,burst_size=20'));
  table.ruleRefs([{ type: 'meter', meter: 1 }, { type: 'output', port: 1, max_len: 0 }], 1);
  table.ruleRefs([{ type: 'meter', meter: 1 }], 1);
  table.ruleRefs([{ type: 'meter', meter: 1 }], -1);
  table.ruleRefs([{ type: 'meter', meter: 2 }], 1);
  table.apply(1, 100, now());
  tick(1500.25);
  assert.deepEqual(table.statsReply({ id: OFPM_ALL }, 4), [
    { meter_id: 1, flow_count: 1, packet_in_count: 1n, byte_in_count: 100n, duration_sec: 1, duration_nsec: 500_250_000, band_stats: [{ packet_band_count: 0n, byte_band_count: 0n }] },
    { meter_id: 2, flow_count: 1, packet_in_count: 0n, byte_in_count: 0n, duration_sec: 1, duration_nsec: 500_250_000, band_stats: [{ packet_band_count: 0n, byte_band_count: 0n }] },
  ]);
  assert.deepEqual(table.configReply({ id: OFPM_ALL }, 6), [
    { flags: 1, meter_id: 1, bands: [{ type: 1, rate: 1000, burst_size: 1000 }] },
    { flags: 14, meter_id: 2, bands: [{ type: 1, rate: 10, burst_size: 20 }] },
  ]);
  assert.equal(errorOf(() => table.statsReply({ id: 5 }, 4)), 'OFPMMFC_UNKNOWN_METER');
  assert.equal(errorOf(() => table.configReply({ id: 5 }, 4)), 'OFPMMFC_UNKNOWN_METER');

  // A modified meter restarts its counters and buckets (the datapath replaces it) but keeps its age and flows.
  table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=2000', 'modify'));
  const s = table.statsReply({ id: 1 }, 4)[0]!;
  assert.deepEqual([s.flow_count, s.packet_in_count, s.duration_sec], [1, 0n, 1]);
  for (const v of [4, 5, 6]) {
    for (const [stat, entries] of [['METER', table.statsReply({ id: OFPM_ALL }, v)], ['METER_CONFIG', table.configReply({ id: OFPM_ALL }, v)]] as const) {
      decodeMessage(encodeMessage({ version: v, xid: 1, kind: 'MULTIPART_REPLY', body: { stat, flags: 0, body: { entries } } } as OfMessage));
    }
  }
});

test('the features reply is the one ovs-vswitchd 3.1 sends for its userspace datapath', () => {
  assert.deepEqual(new MeterTable().featuresReply(4), { max_meter: 262144, band_types: 2, capabilities: 15, max_bands: 8, max_color: 0 });
  assert.equal(new MeterTable({ maxMeters: 64 }).featuresReply(6).max_meter, 64);
});

test('a snapshot puts the table back as it was (a failed bundle)', () => {
  const { table } = setup();
  table.handleMeterMod(mod('meter=1,kbps,bands=type=drop,rate=1000'));
  const snap = table.snapshot();
  table.handleMeterMod(mod('meter=2,kbps,bands=type=drop,rate=1000'));
  table.handleMeterMod(mod('meter=1,pktps,bands=type=drop,rate=10', 'modify'));
  table.restore(snap);
  assert.deepEqual(table.all().map((m) => [m.id, m.flags]), [[1, 1]]);
  table.removeAll();
  assert.deepEqual(table.ids(), []);
});

// The group table: GROUP_MOD commands and OVS 3.1's error for each bad one
// (the answers recorded from ovs-vswitchd; test/interop/ofproto-groups-meters
// checks them against the real daemon), bucket liveness for fast failover,
// select groups spreading flows by weight, statistics and the desc and
// features replies.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OfError, decodeMessage, encodeMessage, groupModMessage, parseGroupMod,
  type GroupCommand, type GroupMod11, type GroupMod15, type MessageOf, type OfMessage,
} from '../../src/openflow/index.js';
import { GroupTable, dpHashTable, type Bucket, type Group, type GroupTableOptions } from '../../src/ofproto/groups.js';

const OFPG_ALL = 0xfffffffc;

/** A GROUP_MOD as it arrives from the wire: text → message → bytes → decoded. */
function mod(v: number, text: string, command: GroupCommand = 'add', tweak?: (b: GroupMod11 & GroupMod15) => void): MessageOf<'GROUP_MOD'> {
  const msg = groupModMessage(parseGroupMod(text, command), v);
  tweak?.(msg.body as GroupMod11 & GroupMod15);
  return decodeMessage(encodeMessage(msg)) as MessageOf<'GROUP_MOD'>;
}

function setup(opts: Partial<GroupTableOptions> = {}) {
  const live = new Set<number>();
  const deleted: number[][] = [];
  let clock = 1000;
  const table = new GroupTable({
    isPortLive: (p) => live.has(p), onDeleted: (ids) => deleted.push(ids), now: () => clock, ...opts,
  });
  return { table, live, deleted, tick: (ms: number) => { clock += ms; } };
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

const group = (t: GroupTable, id: number): Group => {
  const g = t.get(id);
  assert.ok(g, `group ${id} exists`);
  return g;
};

test('add, modify, add_or_mod and delete change the table as in OVS, and deleting tells the core which groups went', () => {
  const { table, deleted, tick } = setup();
  table.handleGroupMod(mod(4, 'group_id=1,type=all,bucket=output:1'));
  table.handleGroupMod(mod(4, 'group_id=2,type=indirect,bucket=output:2'));
  assert.equal(table.size, 2);
  assert.deepEqual(group(table, 1).buckets.map((b) => b.actions), [[{ type: 'output', port: 1, max_len: 0 }]]);

  table.ruleRefs([{ type: 'group', group: 1 }], 1);
  table.account(1, null, 3, 300);
  tick(1500);
  table.handleGroupMod(mod(4, 'group_id=1,type=select,bucket=output:2,bucket=weight:5,output:1', 'modify'));
  const g1 = group(table, 1);
  assert.equal(g1.type, 'select');
  assert.deepEqual(g1.buckets.map((b) => [b.bucketId, b.weight]), [[0, 1], [1, 5]]);
  assert.equal(g1.created, 1000, 'a modified group keeps its age');
  assert.equal(g1.refCount, 1, 'and the flows that use it');
  assert.equal(g1.packets, 0, 'but its counters start again (OVS rebuilds the group)');

  table.handleGroupMod(mod(4, 'group_id=3,type=all,bucket=output:1', 'add_or_mod'));
  table.handleGroupMod(mod(4, 'group_id=3,type=ff,bucket=watch_port:1,output:1', 'add_or_mod'));
  assert.equal(group(table, 3).type, 'ff');

  table.handleGroupMod(mod(4, 'group_id=55', 'delete'));
  assert.deepEqual(deleted, [], 'deleting a missing group is silently fine');
  table.handleGroupMod(mod(4, 'group_id=2', 'delete'));
  assert.deepEqual(deleted, [[2]]);
  table.handleGroupMod(mod(4, '', 'delete'));
  assert.deepEqual(deleted, [[2], [1, 3]]);
  assert.equal(table.size, 0);
});

/** [what, version, text, command, tweak, OVS 3.1's answer]. */
const ERRORS: Array<[string, number, string, GroupCommand, ((b: GroupMod11 & GroupMod15) => void) | undefined, string | null]> = [
  ['an existing group', 4, 'group_id=1,type=all,bucket=output:2', 'add', undefined, 'OFPGMFC_GROUP_EXISTS'],
  ['modify of a missing group', 4, 'group_id=9,type=all,bucket=output:2', 'modify', undefined, 'OFPGMFC_UNKNOWN_GROUP'],
  ['a bucket chaining to a missing group', 4, 'group_id=3,type=all,bucket=actions=group:77', 'add', undefined, null],
  ['a group chaining to itself', 4, 'group_id=4,type=indirect,bucket=actions=group:4', 'add', undefined, null],
  ['indirect without a bucket', 4, 'group_id=5,type=indirect', 'add', undefined, 'OFPGMFC_INVALID_GROUP'],
  ['indirect with two buckets', 4, 'group_id=5,type=indirect,bucket=output:1', 'add', (b) => { b.buckets.push(b.buckets[0]!); }, 'OFPGMFC_INVALID_GROUP'],
  ['weight outside select', 4, 'group_id=5,type=all,bucket=output:1', 'add', (b) => { b.buckets[0]!.weight = 3; }, 'OFPGMFC_INVALID_GROUP'],
  ['watch in an all group', 4, 'group_id=5,type=all,bucket=watch_port:1,output:1', 'add', undefined, 'OFPGMFC_WATCH_UNSUPPORTED'],
  ['watch in an indirect group', 4, 'group_id=5,type=indirect,bucket=watch_group:1,output:1', 'add', undefined, 'OFPGMFC_WATCH_UNSUPPORTED'],
  ['watch in a select group', 4, 'group_id=5,type=select,bucket=watch_port:2,output:1', 'add', undefined, null],
  ['fast failover without watch', 4, 'group_id=6,type=ff,bucket=watch_port:1,output:1', 'add', (b) => { b.buckets[0]!.watch_port = 0xffffffff; }, 'OFPGMFC_INVALID_GROUP'],
  ['type 7', 4, 'group_id=7,type=all,bucket=output:1', 'add', (b) => { b.type = 7; }, 'OFPGMFC_BAD_TYPE'],
  ['type 9 in a delete', 4, 'group_id=7', 'delete', (b) => { b.type = 9; }, 'OFPGMFC_BAD_TYPE'],
  ['command 9', 4, 'group_id=7,type=all,bucket=output:1', 'add', (b) => { b.command = 9; }, 'OFPGMFC_BAD_COMMAND'],
  ['a reserved group id', 4, 'group_id=7,type=all,bucket=output:1', 'add', (b) => { b.group_id = 0xffffff01; }, 'OFPGMFC_INVALID_GROUP'],
  ['OFPG_ALL as a new group', 4, 'group_id=7,type=all,bucket=output:1', 'add', (b) => { b.group_id = OFPG_ALL; }, 'OFPGMFC_INVALID_GROUP'],
  ['a delete with buckets (OF1.3.5)', 4, 'group_id=7,type=all,bucket=output:1', 'add', (b) => { b.command = 2; }, 'OFPGMFC_INVALID_GROUP'],
  ['a reserved watch port', 4, 'group_id=7,type=select,bucket=output:1', 'add', (b) => { b.buckets[0]!.watch_port = 0xffff0000; }, 'OFPGMFC_BAD_WATCH'],
  ['OF1.3 insert_bucket (bucket ids 0.. collide)', 4, 'group_id=1,type=all,bucket=output:3', 'add', (b) => { b.command = 3; }, 'OFPGMFC_BUCKET_EXISTS'],
  ['insert after a missing bucket', 6, 'group_id=1,command_bucket_id=99,bucket=bucket_id:13,actions=5', 'insert_bucket', undefined, 'OFPGMFC_UNKNOWN_BUCKET'],
  ['insert an existing bucket id', 6, 'group_id=1,command_bucket_id=last,bucket=bucket_id:0,actions=5', 'insert_bucket', undefined, 'OFPGMFC_BUCKET_EXISTS'],
  ['insert into a missing group', 6, 'group_id=21,command_bucket_id=last,bucket=bucket_id:1,actions=5', 'insert_bucket', undefined, 'OFPGMFC_UNKNOWN_GROUP'],
  ['insert at bucket id "all"', 6, 'group_id=1,command_bucket_id=last,bucket=bucket_id:40,actions=5', 'insert_bucket', (b) => { b.command_bucket_id = 0xffffffff; }, 'OFPGMFC_BAD_BUCKET'],
  ['remove a missing bucket', 6, 'group_id=1,command_bucket_id=11', 'remove_bucket', undefined, 'OFPGMFC_UNKNOWN_BUCKET'],
  ['remove with buckets', 6, 'group_id=1,command_bucket_id=last,bucket=bucket_id:40,actions=5', 'insert_bucket', (b) => { b.command = 5; }, 'OFPGMFC_BAD_BUCKET'],
  ['a command bucket id in an add', 6, 'group_id=22,type=all,bucket=actions=1', 'add', (b) => { b.command_bucket_id = 5; }, 'OFPGMFC_BAD_BUCKET'],
  ['two buckets with one id', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1,bucket=bucket_id:2,actions=2', 'add', (b) => { b.buckets[1]!.bucket_id = 1; }, 'OFPGMFC_BAD_BUCKET'],
  ['a bucket id past the last', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1', 'add', (b) => { b.buckets[0]!.bucket_id = 0xffffff01; }, 'OFPGMFC_BAD_BUCKET'],
  ['an unknown experimenter bucket property', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1', 'add', (b) => { b.buckets[0]!.properties.push(expProp(0x2320)); }, 'OFPBPC_BAD_EXP_TYPE'],
  ['a bucket property of experimenter 0', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1', 'add', (b) => { b.buckets[0]!.properties.push(expProp(0)); }, 'OFPBPC_BAD_EXPERIMENTER'],
  ['bucket property type 7', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1', 'add', (b) => {
    b.buckets[0]!.properties.push({ type: 7, data: new Uint8Array(4), raw: true });
  }, 'OFPBPC_BAD_TYPE'],
  ['an unknown group property', 6, 'group_id=22,type=all,bucket=bucket_id:1,actions=1', 'add', (b) => { b.properties.push(expProp(0x2320)); }, 'OFPBPC_BAD_EXP_TYPE'],
  ['a selection method outside select', 6, 'group_id=25,type=select,selection_method=hash,bucket=actions=1', 'add', (b) => { b.type = 0; }, 'OFPBPC_BAD_VALUE'],
  ['selection method "rnd"', 6, 'group_id=25,type=select,selection_method=hash,bucket=actions=1', 'add', (b) => {
    (b.properties[0] as { data: Uint8Array }).data.set(new TextEncoder().encode('rnd\0'), 12);
  }, 'OFPBPC_BAD_VALUE'],
  ['dp_hash with fields', 6, 'group_id=25,type=select,selection_method=hash,fields=ip_dst,bucket=actions=1', 'add', (b) => {
    (b.properties[0] as { data: Uint8Array }).data.set(new TextEncoder().encode('dp_hash\0'), 12);
  }, 'OFPBPC_BAD_VALUE'],
  ['a watched bucket inserted with message type all', 6, 'group_id=1,command_bucket_id=last,bucket=bucket_id:7,watch_port:2,actions=2', 'insert_bucket', undefined, 'OFPGMFC_WATCH_UNSUPPORTED'],
  ['a weighted bucket inserted into an all group', 6, 'group_id=1,command_bucket_id=last,bucket=bucket_id:9,actions=5', 'insert_bucket', (b) => {
    b.buckets[0]!.properties.push({ type: 0, weight: 4 });
  }, null],
];

function expProp(experimenter: number) {
  const data = new Uint8Array(12);
  new DataView(data.buffer).setUint32(0, experimenter);
  new DataView(data.buffer).setUint32(4, 9);
  return { type: 0xffff, data, raw: true as const };
}

test('every bad group mod gets the error OVS 3.1 sends, and changes nothing', () => {
  for (const [what, v, text, command, tweak, expected] of ERRORS) {
    const { table } = setup();
    table.handleGroupMod(mod(4, 'group_id=1,type=all,bucket=output:1'));
    const before = table.all().map((g) => [g.id, g.type, g.buckets.length]);
    assert.equal(errorOf(() => table.handleGroupMod(mod(v, text, command, tweak))), expected, what);
    if (expected) assert.deepEqual(table.all().map((g) => [g.id, g.type, g.buckets.length]), before, `${what} leaves the table alone`);
  }
});

test('OF1.5 insert_bucket and remove_bucket place and take buckets by id, first and last; kept buckets keep their counters', () => {
  const { table } = setup();
  const ids = () => group(table, 20).buckets.map((b) => b.bucketId);
  table.handleGroupMod(mod(6, 'group_id=20,type=select,bucket=bucket_id:10,weight:3,actions=1,bucket=bucket_id:20,actions=2'));
  table.account(20, group(table, 20).buckets[0]!, 4, 400);
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=first,bucket=bucket_id:5,actions=3', 'insert_bucket'));
  assert.deepEqual(ids(), [5, 10, 20]);
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=last,bucket=bucket_id:30,actions=4', 'insert_bucket'));
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=10,bucket=bucket_id:11,actions=5,bucket=bucket_id:12,actions=6', 'insert_bucket'));
  assert.deepEqual(ids(), [5, 10, 11, 12, 20, 30]);
  const g = group(table, 20);
  assert.equal(g.type, 'select', 'a bucket command keeps the type');
  assert.deepEqual([g.packets, g.buckets[1]!.packets, g.buckets[1]!.bytes], [0, 4, 400]);
  // The message's type (all, as ovs-ofctl sends insert_bucket) sets the default weight: 0, as in OVS.
  assert.equal(g.buckets[2]!.weight, 0);
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=first', 'remove_bucket'));
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=last', 'remove_bucket'));
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=11', 'remove_bucket'));
  assert.deepEqual(ids(), [10, 12, 20]);
  table.handleGroupMod(mod(6, 'group_id=20,command_bucket_id=all', 'remove_bucket'));
  assert.deepEqual(ids(), []);
});

test('a fast failover group forwards to its first live bucket, following watched groups and ports as they go down', () => {
  let controller = false;
  const { table, live } = setup({ isControllerLive: () => controller });
  table.handleGroupMod(mod(4, 'group_id=2,type=ff,bucket=watch_port:3,output:3'));
  table.handleGroupMod(mod(4, 'group_id=1,type=ff,bucket=watch_port:1,output:1,bucket=watch_group:2,output:2,bucket=watch_port:4,output:4'));
  table.handleGroupMod(mod(4, 'group_id=9,type=ff,bucket=watch_group:9,output:1', 'add'));
  table.handleGroupMod(mod(4, 'group_id=8,type=ff,bucket=watch_port:1,output:1', 'add', (b) => { b.buckets[0]!.watch_port = 0xfffffffd; }));
  const pick = (id: number) => table.selectBucket(group(table, id), 0)?.bucketId ?? null;

  assert.equal(pick(1), null, 'nothing is live');
  live.add(4);
  assert.equal(pick(1), 2);
  live.add(3);
  assert.equal(pick(1), 1, 'port 3 makes group 2 live, so the watch_group bucket wins');
  live.add(1);
  assert.equal(pick(1), 0);
  assert.deepEqual(table.liveBuckets(group(table, 1)).map((b) => b.bucketId), [0, 1, 2]);
  live.delete(1);
  live.delete(3);
  assert.equal(pick(1), 2, 'fails over as ports go down');
  assert.equal(pick(9), null, 'a group watching itself is dead, not a hang');
  assert.equal(pick(8), null);
  controller = true;
  assert.equal(pick(8), 0, 'a bucket watching CONTROLLER is live while a controller is connected');
});

/** How often each bucket is picked for `n` spread-out hashes. */
function spread(table: GroupTable, g: Group, n: number): Map<number, number> {
  const counts = new Map<number, number>();
  let h = 0x12345678;
  for (let i = 0; i < n; i++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    const b = table.selectBucket(g, h ^ (h >>> 13));
    const id = b ? b.bucketId : -1;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

test('select groups spread flows in proportion to bucket weights, and skip dead and weightless buckets', () => {
  const { table, live } = setup();
  table.handleGroupMod(mod(4, 'group_id=1,type=select,bucket=weight:1,output:1,bucket=weight:2,output:2,bucket=weight:5,output:3,bucket=weight:0,output:4'));
  const g = group(table, 1);
  assert.equal(g.selection, 'dp_hash', 'without a method, OVS uses a dp_hash table when 256 values suffice');
  assert.equal(g.hashMask, 15);
  const n = 80_000;
  const counts = spread(table, g, n);
  for (const [id, share] of [[0, 1 / 8], [1, 2 / 8], [2, 5 / 8]] as const) {
    assert.ok(Math.abs(counts.get(id)! / n - share) < 0.04, `bucket ${id}: ${counts.get(id)} of ${n}, want about ${share}`);
  }
  assert.equal(counts.get(3), undefined, 'weight 0 is never picked');

  // Weights 1 and 1000 need 1001 slots: OVS falls back to highest-random-weight over the flow hash.
  table.handleGroupMod(mod(4, 'group_id=2,type=select,bucket=weight:100,output:1,bucket=weight:300,output:2,bucket=weight:1,output:3'));
  const g2 = group(table, 2);
  assert.equal(g2.selection, 'default');
  const c2 = spread(table, g2, n);
  assert.ok(c2.get(1)! > c2.get(0)! * 1.5, `heavier bucket picked more: ${[...c2]}`);
  assert.ok((c2.get(2) ?? 0) < n * 0.02, 'the weight-1 bucket is rare');

  // A watched bucket that goes dead gives its share to the others.
  table.handleGroupMod(mod(4, 'group_id=3,type=select,bucket=watch_port:1,output:1,bucket=output:2'));
  live.add(1);
  const both = spread(table, group(table, 3), 10_000);
  assert.ok(Math.abs(both.get(0)! - 5000) < 500, `even split: ${[...both]}`);
  live.delete(1);
  assert.deepEqual([...spread(table, group(table, 3), 1000)], [[1, 1000]]);
  assert.equal(table.selectBucket(group(table, 3), 7), table.selectBucket(group(table, 3), 7), 'a flow always takes the same bucket');
});

test('the dp_hash table gives each bucket its Webster share of 16..256 slots, or none when the weights need more', () => {
  const b = (weight: number): Bucket => ({ bucketId: weight, weight, watchPort: 0xffff, watchGroup: 0xffffffff, actions: [], packets: 0, bytes: 0 });
  const count = (t: Bucket[] | null, w: number) => t!.filter((x) => x.weight === w).length;
  const t1 = dpHashTable([b(5), b(7)], 256);
  assert.equal(t1!.length, 16);
  assert.ok(Math.abs(count(t1, 5) - 16 * 5 / 12) < 1 && Math.abs(count(t1, 7) - 16 * 7 / 12) < 1);
  const t2 = dpHashTable([b(1), b(100)], 256);
  assert.equal(t2!.length, 128, '101 slots round up to 128');
  assert.equal(count(t2, 1), 1);
  assert.equal(dpHashTable([b(1), b(300)], 256), null);
  assert.equal(dpHashTable([b(0)], 256), null);
  assert.equal(dpHashTable([], 256), null);
});

test('indirect groups use their bucket and all groups every bucket', () => {
  const { table } = setup();
  table.handleGroupMod(mod(4, 'group_id=1,type=indirect,bucket=output:1'));
  table.handleGroupMod(mod(4, 'group_id=2,type=all,bucket=output:1,bucket=output:2'));
  assert.equal(table.selectBucket(group(table, 1), 0), group(table, 1).buckets[0]);
  assert.equal(table.selectBucket(group(table, 2), 0), null);
  assert.equal(table.liveBuckets(group(table, 2)).length, 2);
});

test('group statistics count traffic per group and bucket, flows that use the group, and the group age', () => {
  const { table, tick } = setup();
  table.handleGroupMod(mod(4, 'group_id=1,type=all,bucket=output:1,bucket=output:2'));
  table.handleGroupMod(mod(4, 'group_id=2,type=select,bucket=output:1,bucket=output:2'));
  table.ruleRefs([{ type: 'write_actions', actions: [{ type: 'group', group: 1 }] }], 1);
  table.ruleRefs([{ type: 'clone', actions: [{ type: 'group', group: 1 }] }, { type: 'group', group: 2 }], 1);
  table.ruleRefs([{ type: 'group', group: 2 }], -1);
  table.account(1, null, 2, 200);
  const g2 = group(table, 2);
  table.account(2, g2.buckets[1]!, 5, 640);
  tick(2250.5);
  assert.deepEqual(table.statsReply({ id: OFPG_ALL }, 4), [
    {
      group_id: 1, ref_count: 2, packet_count: 2n, byte_count: 200n, duration_sec: 2, duration_nsec: 250_500_000,
      bucket_stats: [{ packet_count: 2n, byte_count: 200n }, { packet_count: 2n, byte_count: 200n }],
    },
    {
      group_id: 2, ref_count: 0, packet_count: 5n, byte_count: 640n, duration_sec: 2, duration_nsec: 250_500_000,
      bucket_stats: [{ packet_count: 0n, byte_count: 0n }, { packet_count: 5n, byte_count: 640n }],
    },
  ]);
  assert.deepEqual(table.statsReply({ id: 2 }, 4).map((e) => e.group_id), [2]);
  assert.deepEqual(table.statsReply({ id: 77 }, 4), [], 'an unknown group is an empty reply, not an error');
});

test('group descriptions carry OF1.1 buckets in OF1.3 and bucket ids with properties in OF1.5', () => {
  const { table } = setup();
  table.handleGroupMod(mod(6, 'group_id=7,type=select,selection_method=hash,fields(ip_src),bucket=bucket_id:4,weight:3,actions=1,bucket=bucket_id:9,actions=2'));
  table.handleGroupMod(mod(4, 'group_id=3,type=ff,bucket=watch_port:2,output:2'));
  const d13 = table.descReply({}, 4);
  assert.deepEqual(d13.map((d) => [d.group_id, d.type]), [[3, 3], [7, 1]]);
  assert.deepEqual(d13[0]!.buckets, [{ weight: 0, watch_port: 2, watch_group: 0xffffffff, actions: [{ type: 'output', port: 2, max_len: 0 }] }]);
  const d15 = table.descReply({ id: 7 }, 6);
  assert.equal(d15.length, 1);
  const b15 = d15[0]!.buckets as Array<{ bucket_id: number; properties: unknown[] }>;
  assert.deepEqual(b15.map((b) => [b.bucket_id, b.properties]), [[4, [{ type: 0, weight: 3 }]], [9, [{ type: 0, weight: 1 }]]]);
  assert.equal((d15[0] as { properties: unknown[] }).properties.length, 1, 'the selection method property');
  assert.equal(group(table, 7).props.selection_method, 'hash');
  assert.deepEqual(group(table, 7).props.fields.map((f) => f.field.name), ['ip_src']);
  assert.equal(group(table, 7).selection, 'hash');
  // Every reply must encode in its version.
  for (const v of [4, 5, 6]) {
    const body = { stat: 'GROUP_DESC', flags: 0, body: { entries: table.descReply(v >= 6 ? { id: OFPG_ALL } : {}, v) } };
    decodeMessage(encodeMessage({ version: v, xid: 1, kind: 'MULTIPART_REPLY', body } as OfMessage));
  }
});

test('the features reply is the one ovs-vswitchd 3.1 sends, and max groups per type is enforced', () => {
  const { table } = setup({ maxGroups: 2 });
  assert.deepEqual(setup().table.featuresReply(4), {
    types: 0xf, capabilities: 0x7,
    max_groups: { all: 0xffffff00, select: 0xffffff00, indirect: 0xffffff00, ff: 0xffffff00 },
    actions: { all: 0x03ff8001, select: 0x03ff8001, indirect: 0x03ff8001, ff: 0x03ff8001 },
  });
  assert.equal(table.featuresReply(6).max_groups.select, 2);
  table.handleGroupMod(mod(4, 'group_id=1,type=all,bucket=output:1'));
  table.handleGroupMod(mod(4, 'group_id=2,type=all,bucket=output:1'));
  assert.equal(errorOf(() => table.handleGroupMod(mod(4, 'group_id=3,type=all,bucket=output:1'))), 'OFPGMFC_OUT_OF_GROUPS');
  table.handleGroupMod(mod(4, 'group_id=3,type=select,bucket=output:1'));
  table.handleGroupMod(mod(4, 'group_id=4,type=select,bucket=output:1'));
  assert.equal(errorOf(() => table.handleGroupMod(mod(4, 'group_id=1,type=select,bucket=output:1', 'modify'))), 'OFPGMFC_OUT_OF_GROUPS');
  table.handleGroupMod(mod(4, 'group_id=3', 'delete'));
  table.handleGroupMod(mod(4, 'group_id=1,type=select,bucket=output:1', 'modify'));
  table.handleGroupMod(mod(4, 'group_id=5,type=all,bucket=output:1'));
  assert.equal(table.size, 4);
});

test('a snapshot puts the table back as it was (a failed bundle)', () => {
  const { table } = setup();
  table.handleGroupMod(mod(4, 'group_id=1,type=all,bucket=output:1'));
  const snap = table.snapshot();
  table.handleGroupMod(mod(4, 'group_id=1,type=select,bucket=output:2', 'modify'));
  table.handleGroupMod(mod(4, 'group_id=2,type=all,bucket=output:1'));
  table.restore(snap);
  assert.deepEqual(table.all().map((g) => [g.id, g.type]), [[1, 'all']]);
  table.handleGroupMod(mod(4, 'group_id=2,type=all,bucket=output:1'));
  table.removeAll();
  assert.equal(table.size, 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { parseSchema, columnTypeToJson, isScalar, type ColumnType } from '../../src/db/schema.js';
import {
  datumFromJson, datumToJson, datumDiff, datumApplyDiff, datumDefault, datumIsDefault,
  checkConstraints, makeDatum, datumEquals, type Datum,
} from '../../src/db/datum.js';
import { OvsdbError } from '../../src/db/errors.js';

const strSet: ColumnType = { key: { type: 'string' }, min: 0, max: Infinity };
const strMap: ColumnType = { key: { type: 'string' }, value: { type: 'string' }, min: 0, max: Infinity };
const optStr: ColumnType = { key: { type: 'string' }, min: 0, max: 1 };
const int: ColumnType = { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 1, max: 1 };

test('a one-element set goes on the wire as its bare atom, sets and maps in tagged form', () => {
  assert.deepEqual(datumToJson(strSet, datumFromJson(strSet, ['set', ['b', 'a']])), ['set', ['a', 'b']]);
  assert.deepEqual(datumToJson(strSet, datumFromJson(strSet, 'x')), 'x');
  assert.deepEqual(datumToJson(strSet, datumFromJson(strSet, ['set', []])), ['set', []]);
  assert.deepEqual(datumToJson(strMap, datumFromJson(strMap, ['map', [['k2', 'b'], ['k1', 'a']]])), ['map', [['k1', 'a'], ['k2', 'b']]]);
  const uuidSet: ColumnType = { key: { type: 'uuid', refTable: 'T', refType: 'strong' }, min: 0, max: Infinity };
  const u = '97AD9C42-F69B-4EC3-8A6E-C36263CC1F50';
  assert.deepEqual(datumToJson(uuidSet, datumFromJson(uuidSet, ['uuid', u])), ['uuid', u.toLowerCase()]);
});

test('bad values are typed errors naming what was expected', () => {
  const expectTag = (fn: () => unknown, tag: string) =>
    assert.throws(fn, (e: unknown) => e instanceof OvsdbError && e.tag === tag);
  expectTag(() => datumFromJson(int, 'x'), 'syntax error');
  expectTag(() => datumFromJson(int, 4096), 'constraint violation');
  expectTag(() => datumFromJson(int, 1.5), 'syntax error');
  expectTag(() => datumFromJson(strSet, ['set', ['a', 'a']]), 'syntax error');
  expectTag(() => datumFromJson(optStr, ['set', ['a', 'b']]), 'syntax error');
  expectTag(() => datumFromJson(strMap, ['set', []]), 'syntax error');
  const e = { key: { type: 'string' as const, enum: ['secure', 'standalone'] }, min: 0, max: 1 };
  assert.throws(() => datumFromJson(e, "bogus"), /bogus is not one of the allowed values \(\[secure, standalone\]\)/);
  expectTag(() => datumFromJson({ key: { type: 'uuid' }, min: 1, max: 1 }, ['named-uuid', 'nope']), 'syntax error');
});

test('update2 diffs: single-valued columns carry the new value, sets the symmetric difference, maps added/removed/changed keys', () => {
  const a = datumFromJson(strMap, ['map', [['k1', 'v1'], ['pyidl', 'yes'], ['same', 's'], ['chg', 'old']]]);
  const b = datumFromJson(strMap, ['map', [['k2', 'v2'], ['same', 's'], ['chg', 'new']]]);
  const d = datumDiff(strMap, a, b);
  assert.deepEqual(datumToJson(strMap, d), ['map', [['chg', 'new'], ['k1', 'v1'], ['k2', 'v2'], ['pyidl', 'yes']]]);
  assert.ok(datumEquals(datumApplyDiff(strMap, a, d), b));
  const o1 = datumFromJson(optStr, 'secure');
  const o2 = datumFromJson(optStr, 'standalone');
  assert.deepEqual(datumToJson(optStr, datumDiff(optStr, o1, o2)), 'standalone');
  assert.deepEqual(datumToJson(optStr, datumDiff(optStr, o1, datumDefault(optStr))), ['set', []]);
  assert.deepEqual(datumDiff(int, datumFromJson(int, 1), datumFromJson(int, 7)).keys, [7]);
});

test('diff then apply gives back the new value, for any two maps (property)', () => {
  const arbMap = fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 2 }), { maxKeys: 8 })
    .map((o): Datum => makeDatum(Object.keys(o), Object.values(o)));
  fc.assert(fc.property(arbMap, arbMap, (x, y) => {
    const d = datumDiff(strMap, x, y);
    assert.ok(datumEquals(datumApplyDiff(strMap, x, d), y));
    checkConstraints(strMap, datumApplyDiff(strMap, x, d));
  }), { numRuns: 2000 });
  const arbSet = fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 10 }).map((a) => makeDatum(a));
  const intSet: ColumnType = { key: { type: 'integer' }, min: 0, max: Infinity };
  fc.assert(fc.property(arbSet, arbSet, (x, y) => datumEquals(datumApplyDiff(intSet, x, datumDiff(intSet, x, y)), y)));
});

test('defaults: empty for optional columns, zero-like atoms for scalars', () => {
  assert.ok(datumIsDefault(optStr, datumDefault(optStr)));
  assert.deepEqual(datumDefault(int).keys, [0]);
  assert.deepEqual(datumDefault({ key: { type: 'uuid' }, min: 1, max: 1 }).keys, ['00000000-0000-0000-0000-000000000000']);
});

const schemaPaths = ['schemas/vswitch.ovsschema', '/usr/share/openvswitch/vswitch.ovsschema'].filter(existsSync);

test('the Open_vSwitch schema parses and keeps its GC roots, indexes and references', { skip: schemaPaths.length === 0 && 'no vswitch schema on this machine' }, () => {
  for (const path of schemaPaths) {
    const s = parseSchema(JSON.parse(readFileSync(path, 'utf8')));
    assert.equal(s.name, 'Open_vSwitch');
    assert.equal(s.tables.size, 19);
    assert.equal(s.tables.get('Open_vSwitch')!.maxRows, 1);
    assert.equal(s.tables.get('Open_vSwitch')!.isRoot, true);
    assert.equal(s.tables.get('Bridge')!.isRoot, false);
    assert.deepEqual(s.tables.get('Bridge')!.indexes, [['name']]);
    assert.equal(s.tables.get('Bridge')!.columns.get('name')!.mutable, false);
    assert.equal(s.tables.get('Mirror')!.columns.get('select_src_port')!.type.key.refType, 'weak');
    assert.ok(isScalar(s.tables.get('Bridge')!.columns.get('name')!.type));
    assert.deepEqual(columnTypeToJson(s.tables.get('Bridge')!.columns.get('ports')!.type),
      { key: { type: 'uuid', refTable: 'Port' }, min: 0, max: 'unlimited' });
    // The normalized form parses back to the same schema.
    const again = parseSchema(s.json);
    assert.deepEqual(again.json, s.json);
  }
});

test('schemas that break the rules are refused', () => {
  assert.throws(() => parseSchema({ name: 'x', version: '1', tables: {} }), /version/);
  assert.throws(() => parseSchema({ name: 'x', version: '1.0.0', tables: { T: { columns: { _a: { type: 'string' } } } } }), /reserved/);
  assert.throws(() => parseSchema({ name: 'x', version: '1.0.0', tables: { T: { columns: { a: { type: { key: { type: 'uuid', refTable: 'Nope' } } } } } } }), /undefined table/);
  assert.throws(() => parseSchema({ name: 'x', version: '1.0.0', tables: { T: { columns: { a: { type: 'string' } }, indexes: [['b']] } } }), /no column b/);
});

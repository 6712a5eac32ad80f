// Transaction semantics, scenario by scenario, on a small hand-made schema:
// each operation, each error with OVS's exact tag and text, and rollback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchema } from '../../src/db/schema.js';
import { Database } from '../../src/db/database.js';
import { executeTransaction, type TxnContext, type TxnOutcome } from '../../src/db/transaction.js';
import { compileWhere } from '../../src/db/condition.js';

const SCHEMA = parseSchema({
  name: 'Test',
  version: '1.0.0',
  tables: {
    Root: {
      isRoot: true,
      maxRows: 3,
      indexes: [['name']],
      columns: {
        name: { type: 'string', mutable: false },
        children: { type: { key: { type: 'uuid', refTable: 'Child' }, min: 0, max: 'unlimited' } },
        watch: { type: { key: { type: 'uuid', refTable: 'Child', refType: 'weak' }, min: 0, max: 'unlimited' } },
        n: { type: 'integer' },
        opt: { type: { key: 'integer', min: 0, max: 1 } },
        small: { type: { key: { type: 'integer', minInteger: 0, maxInteger: 100 }, min: 0, max: 3 } },
        reals: { type: { key: 'real', min: 0, max: 'unlimited' } },
        m: { type: { key: 'string', value: 'string', min: 0, max: 'unlimited' } },
        label: { type: 'string' },
      },
    },
    Child: {
      columns: {
        name: { type: 'string' },
        leaf: { type: { key: { type: 'uuid', refTable: 'Leaf' }, min: 0, max: 1 } },
      },
    },
    Leaf: { columns: { v: { type: 'integer' } } },
    Holder: {
      isRoot: true,
      columns: { w: { type: { key: { type: 'uuid', refTable: 'Child', refType: 'weak' }, min: 1, max: 'unlimited' } } },
    },
  },
});

function ctx(extra: Partial<TxnContext> = {}): TxnContext {
  return { hasLock: () => false, now: () => 10_000, ...extra };
}

function run(db: Database, ops: unknown[], c: TxnContext = ctx()): TxnOutcome {
  return executeTransaction(db, ops, c);
}

/** Runs a transaction that must succeed; returns its results. */
function ok(db: Database, ops: unknown[]): unknown[] {
  const out = run(db, ops);
  assert.equal(out.kind, 'done');
  for (const r of out.results) {
    assert.ok(r !== null && !(typeof r === 'object' && 'error' in r), `unexpected error: ${JSON.stringify(out.results)}`);
  }
  return out.results;
}

/** The error object of a failed transaction (the last non-null result). */
function errorOf(out: TxnOutcome): { error: string; details?: string; syntax?: string } {
  const errs = out.results.filter((r) => r !== null && typeof r === 'object' && 'error' in r);
  assert.equal(errs.length, 1, `expected one error in ${JSON.stringify(out.results)}`);
  return errs[0] as { error: string; details?: string; syntax?: string };
}

function uuidOf(result: unknown): string {
  return ((result as { uuid: [string, string] }).uuid)[1];
}

function rows(db: Database, table: string, columns?: string[]): Record<string, unknown>[] {
  const op: Record<string, unknown> = { op: 'select', table, where: [] };
  if (columns) op.columns = columns;
  return (ok(db, [op])[0] as { rows: Record<string, unknown>[] }).rows;
}

function newRoot(db: Database, name: string, extra: Record<string, unknown> = {}): string {
  return uuidOf(ok(db, [{ op: 'insert', table: 'Root', row: { name, ...extra } }])[0]);
}

/** Everything observable about the committed tables, to prove a failed transaction changed nothing. */
function snapshot(db: Database): string {
  const out: unknown[] = [];
  for (const [name, t] of db.tables) {
    for (const [uuid, row] of t) out.push([name, uuid, row.version, [...row.data]]);
  }
  return JSON.stringify(out);
}

test('insert returns the uuid, select returns every column including _uuid and _version', () => {
  const db = new Database(SCHEMA);
  const out = run(db, [{ op: 'insert', table: 'Root', row: { name: 'a', n: 5, m: ['map', [['k', 'v']]] } }]);
  assert.equal(out.kind, 'done');
  const uuid = uuidOf(out.results[0]);
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  assert.ok(out.kind === 'done' && out.change !== null);
  const all = rows(db, 'Root');
  assert.equal(all.length, 1);
  const r = all[0]!;
  assert.deepEqual(r._uuid, ['uuid', uuid]);
  assert.equal((r._version as unknown[])[0], 'uuid');
  assert.equal(r.name, 'a');
  assert.equal(r.n, 5);
  assert.deepEqual(r.children, ['set', []]);
  assert.deepEqual(r.m, ['map', [['k', 'v']]]);
  assert.deepEqual(rows(db, 'Root', ['name', '_uuid']), [{ name: 'a', _uuid: ['uuid', uuid] }]);
});

test('insert with a caller-chosen uuid, and a duplicate of it', () => {
  const db = new Database(SCHEMA);
  const u = '11111111-2222-3333-4444-555555555555';
  const res = ok(db, [{ op: 'insert', table: 'Root', uuid: u, row: { name: 'a' } }]);
  assert.equal(uuidOf(res[0]), u);
  const dup = run(db, [{ op: 'insert', table: 'Root', uuid: u, row: { name: 'b' } }]);
  assert.deepEqual(errorOf(dup), {
    error: 'duplicate uuid',
    details: 'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
    syntax: `"${u}"`,
  });
  assert.equal(errorOf(run(db, [{ op: 'insert', table: 'Root', uuid: 'xyz', row: { name: 'c' } }])).details, 'bad uuid');
});

test('select by _uuid, with columns, sort and distinct rows', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a', { n: 2 });
  newRoot(db, 'b', { n: 1 });
  newRoot(db, 'c', { n: 2 });
  const one = ok(db, [{ op: 'select', table: 'Root', where: [['_uuid', '==', ['uuid', a]]], columns: ['name'] }]);
  assert.deepEqual(one[0], { rows: [{ name: 'a' }] });
  const sorted = ok(db, [{ op: 'select', table: 'Root', where: [], columns: ['name', 'n'], sort: ['n', 'name'] }]);
  assert.deepEqual(sorted[0], { rows: [{ name: 'b', n: 1 }, { name: 'a', n: 2 }, { name: 'c', n: 2 }] });
  // Without _uuid among the columns, equal rows collapse (ovsdb_query_distinct).
  const distinct = ok(db, [{ op: 'select', table: 'Root', where: [['n', '==', 2]], columns: ['n'] }]);
  assert.deepEqual(distinct[0], { rows: [{ n: 2 }] });
});

test('conditions: every function, optional numbers, bare true/false, and type errors', () => {
  const db = new Database(SCHEMA);
  newRoot(db, 'a', { n: 1, opt: 5, m: ['map', [['x', '1'], ['y', '2']]], small: ['set', [1, 2]] });
  newRoot(db, 'b', { n: 2, m: ['map', [['x', '1']]] });
  const names = (where: unknown[]) =>
    ((ok(db, [{ op: 'select', table: 'Root', where, columns: ['name'], sort: ['name'] }])[0] as { rows: { name: string }[] })
      .rows.map((r) => r.name));
  assert.deepEqual(names([['n', '<', 2]]), ['a']);
  assert.deepEqual(names([['n', '>=', 1]]), ['a', 'b']);
  assert.deepEqual(names([['n', '!=', 1]]), ['b']);
  // A missing optional value never satisfies an ordering.
  assert.deepEqual(names([['opt', '<', 100]]), ['a']);
  assert.deepEqual(names([['opt', '==', ['set', []]]]), ['b']);
  assert.deepEqual(names([['m', 'includes', ['map', [['x', '1']]]]]), ['a', 'b']);
  assert.deepEqual(names([['m', 'includes', ['map', [['y', '2']]]]]), ['a']);
  assert.deepEqual(names([['m', 'excludes', ['map', [['y', '2']]]]]), ['b']);
  assert.deepEqual(names([['m', 'includes', ['map', [['x', 'other']]]]]), []);
  assert.deepEqual(names([['small', 'includes', 2]]), ['a']);
  assert.deepEqual(names([['small', 'excludes', ['set', [1, 7]]]]), ['b']);
  assert.deepEqual(names([true]), ['a', 'b']);
  assert.deepEqual(names([false]), []);
  assert.deepEqual(names([['n', '==', 1], ['name', '==', 'b']]), []);

  const sel = (where: unknown[]) => errorOf(run(db, [{ op: 'select', table: 'Root', where }]));
  assert.deepEqual(sel([['nope', '==', 1]]), {
    error: 'unknown column',
    details: 'No column nope in table Root.',
    syntax: '["nope","==",1]',
  });
  assert.deepEqual(sel([['n', '~=', 1]]), { error: 'unknown function', details: 'No function named ~=.' });
  assert.deepEqual(sel([['name', '<', 'x']]), {
    error: 'syntax error',
    details: 'Type mismatch: "<" operator may not be applied to column name of type string.',
    syntax: '["name","<","x"]',
  });
  assert.equal(sel([['small', '<', 1]]).details,
    'Type mismatch: "<" operator may not be applied to column small of type set of up to 3 integers.');
  assert.equal(sel([['n', '==']]).details, 'Parse error in condition.');
  assert.equal(sel([['n', '==', 'str']]).error, 'syntax error');
});

test('parse errors name the operation and quote it with sorted members', () => {
  const db = new Database(SCHEMA);
  assert.deepEqual(errorOf(run(db, [{ op: 'insert', table: 'Nope', row: {} }])), {
    error: 'syntax error',
    details: 'Parsing ovsdb operation 1 of 1 failed: No table named Nope.',
    syntax: '{"op":"insert","row":{},"table":"Nope"}',
  });
  const two = run(db, [{ op: 'comment', comment: 'x' }, { op: 'frobnicate' }]);
  assert.equal(errorOf(two).details, 'Parsing ovsdb operation 2 of 2 failed: No operation "frobnicate"');
  assert.equal(errorOf(run(db, [{ op: 'select', table: 'Root' }])).details,
    "Parsing ovsdb operation 1 of 1 failed: Required 'where' member is missing.");
  assert.equal(errorOf(run(db, [{ op: 'select', table: 'Root', where: {} }])).details,
    "Parsing ovsdb operation 1 of 1 failed: Type mismatch for member 'where'.");
  assert.equal(errorOf(run(db, [{ op: 'commit', durable: false, extra: 1 }])).details,
    "Parsing ovsdb operation 1 of 1 failed: Member 'extra' is present but not allowed here.");
  assert.equal(errorOf(run(db, [42])).details, 'Parsing ovsdb operation 1 of 1 failed: Object expected.');
  assert.deepEqual(errorOf(run(db, [{ op: 'insert', table: 'Root', row: { bogus: 1 } }])), {
    error: 'unknown column',
    details: 'No column bogus in table Root.',
    syntax: '{"bogus":1}',
  });
});

test('a failed operation: error at its index, null after it, and nothing committed', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a', { n: 1 });
  const before = snapshot(db);
  const beforeRow = db.tables.get('Root')!.get(a)!;
  const out = run(db, [
    { op: 'insert', table: 'Root', row: { name: 'b' } },
    { op: 'update', table: 'Root', where: [], row: { n: 7 } },
    { op: 'delete', table: 'Root', where: [['name', '==', 'a']] },
    { op: 'mutate', table: 'Root', where: [], mutations: [['n', '/=', 0]] },
    { op: 'insert', table: 'Root', row: { name: 'c' } },
  ]);
  assert.equal(out.kind, 'done');
  assert.ok(out.kind === 'done' && out.change === null);
  assert.equal(out.results.length, 5);
  assert.deepEqual(out.results[1], { count: 2 });
  assert.deepEqual(out.results[2], { count: 1 });
  assert.deepEqual(out.results[3], { error: 'domain error', details: 'Division by zero.' });
  assert.equal(out.results[4], null);
  assert.equal(snapshot(db), before);
  assert.equal(db.tables.get('Root')!.get(a), beforeRow);
});

test('abort, comment, commit and assert', () => {
  const db = new Database(SCHEMA);
  const aborted = run(db, [{ op: 'insert', table: 'Root', row: { name: 'a' } }, { op: 'abort' }, { op: 'comment', comment: 'x' }]);
  assert.deepEqual(aborted.results.slice(1), [{ error: 'aborted', details: 'aborted by request' }, null]);
  assert.equal(db.tables.get('Root')!.size, 0);

  const out = run(db, [
    { op: 'comment', comment: 'first' },
    { op: 'insert', table: 'Root', row: { name: 'a' } },
    { op: 'comment', comment: 'second' },
    { op: 'commit', durable: true },
  ]);
  assert.ok(out.kind === 'done' && out.change);
  assert.equal(out.change.comment, 'first\nsecond');
  assert.equal(out.change.durable, true);
  assert.deepEqual(out.results[3], {});

  const locked = ctx({ hasLock: (n) => n === 'mine' });
  assert.deepEqual(run(db, [{ op: 'assert', lock: 'mine' }], locked).results, [{}]);
  assert.deepEqual(run(db, [{ op: 'assert', lock: 'theirs' }], locked).results, [
    { error: 'not owner', details: 'Asserted lock theirs not held.' },
  ]);
  // A transaction that only reads (or only comments) changes nothing.
  const readOnly = run(db, [{ op: 'comment', comment: 'hi' }, { op: 'select', table: 'Root', where: [] }]);
  assert.ok(readOnly.kind === 'done' && readOnly.change === null);
});

test('update: immutable columns, _uuid, and an update to the same values changes nothing', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a', { n: 1 });
  const op = { op: 'update', table: 'Root', where: [['_uuid', '==', ['uuid', a]]], row: { name: 'b' } };
  assert.deepEqual(errorOf(run(db, [op])), {
    error: 'constraint violation',
    details: 'Cannot update immutable column name in table Root.',
    syntax: `{"op":"update","row":{"name":"b"},"table":"Root","where":[["_uuid","==",["uuid","${a}"]]]}`,
  });
  const u = errorOf(run(db, [{ op: 'update', table: 'Root', where: [], row: { _uuid: ['uuid', a] } }]));
  assert.equal(u.details, 'Cannot update immutable column _uuid in table Root.');
  const v0 = db.tables.get('Root')!.get(a)!.version;
  const same = run(db, [{ op: 'update', table: 'Root', where: [], row: { n: 1 } }]);
  assert.deepEqual(same.results, [{ count: 1 }]);
  assert.ok(same.kind === 'done' && same.change === null);
  assert.equal(db.tables.get('Root')!.get(a)!.version, v0);

  const oldRow = db.tables.get('Root')!.get(a)!;
  const changed = run(db, [{ op: 'update', table: 'Root', where: [], row: { n: 2 } }]);
  assert.ok(changed.kind === 'done' && changed.change);
  const rc = changed.change.tables.get('Root')!.get(a)!;
  assert.equal(rc.old, oldRow);
  assert.equal(oldRow.data.get('n')!.keys[0], 1, 'committed rows are never modified in place');
  assert.equal(rc.new!.data.get('n')!.keys[0], 2);
  assert.notEqual(rc.new!.version, v0, 'a modified row gets a new _version');
});

test('mutate: arithmetic, range and domain errors, set and map insert/delete, size limits', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a', { n: 10, small: ['set', [1, 2]], reals: ['set', [1.5]], m: ['map', [['a', '1'], ['b', '2']]] });
  const mut = (mutations: unknown[]) => run(db, [{ op: 'mutate', table: 'Root', where: [['_uuid', '==', ['uuid', a]]], mutations }]);
  const get = (col: string) => (rows(db, 'Root', [col])[0] as Record<string, unknown>)[col];

  assert.deepEqual(mut([['n', '+=', 5], ['n', '*=', 2], ['n', '-=', 1], ['n', '/=', 2], ['n', '%=', 4]]).results, [{ count: 1 }]);
  assert.equal(get('n'), 2); // ((10+5)*2-1)/2 = 14 (truncated), 14 % 4 = 2
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['n', '-=', 9]] }]);
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['n', '/=', 2]] }]);
  assert.equal(get('n'), -3, 'integer division truncates toward zero');
  assert.deepEqual(errorOf(mut([['n', '/=', 0]])), { error: 'domain error', details: 'Division by zero.' });
  assert.deepEqual(errorOf(mut([['n', '*=', 2 ** 62], ['n', '*=', 4]])), {
    error: 'range error',
    details: 'Result of "*=" operation is out of range.',
  });
  assert.equal(errorOf(mut([['reals', '%=', 2]])).details,
    'Type mismatch: "%=" operator may not be applied to column reals of type set of reals.');
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['reals', '*=', 2]] }]);
  assert.equal(get('reals'), 3);

  // Per element on a set, with the element constraints (0..100) checked afterwards.
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['small', '+=', 10]] }]);
  assert.deepEqual(get('small'), ['set', [11, 12]]);
  assert.equal(errorOf(mut([['small', '*=', 10]])).error, 'constraint violation');
  assert.deepEqual(errorOf(mut([['small', '%=', 1]])), {
    error: 'constraint violation',
    details: 'Result of "%=" operation contains duplicates.',
  });
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['small', 'insert', ['set', [11, 50]]]] }]);
  assert.deepEqual(get('small'), ['set', [11, 12, 50]]);
  assert.deepEqual(errorOf(mut([['small', 'insert', 60]])), {
    error: 'constraint violation',
    details: 'Attempted to store 4 elements in set of up to 3 integers.',
  });
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['small', 'delete', ['set', [12, 99]]]] }]);
  assert.deepEqual(get('small'), ['set', [11, 50]]);

  // Maps: insert keeps existing keys; delete by map matches key and value, by set matches keys.
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['m', 'insert', ['map', [['a', 'X'], ['c', '3']]]]] }]);
  assert.deepEqual(get('m'), ['map', [['a', '1'], ['b', '2'], ['c', '3']]]);
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['m', 'delete', ['map', [['a', 'wrong'], ['b', '2']]]]] }]);
  assert.deepEqual(get('m'), ['map', [['a', '1'], ['c', '3']]]);
  ok(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['m', 'delete', ['set', ['a', 'zz']]]] }]);
  assert.deepEqual(get('m'), ['map', [['c', '3']]]);

  assert.deepEqual(errorOf(mut([['name', 'insert', 'x']])), {
    error: 'constraint violation',
    details: 'Cannot mutate immutable column name in table Root.',
    syntax: '["name","insert","x"]',
  });
  assert.equal(errorOf(mut([['label', 'insert', 'x']])).details,
    'Type mismatch: "insert" operator may not be applied to column label of type string.');
  assert.deepEqual(errorOf(mut([['n', '^=', 1]])), { error: 'unknown mutator', details: 'No mutator named ^=.' });
});

test('named uuids: forward references, duplicates, and a name never defined', () => {
  const db = new Database(SCHEMA);
  const r = newRoot(db, 'r');
  // ovs-vsctl style: the reference comes before the insert that defines the name.
  const res = ok(db, [
    { op: 'mutate', table: 'Root', where: [['_uuid', '==', ['uuid', r]]], mutations: [['children', 'insert', ['set', [['named-uuid', 'kid']]]]] },
    { op: 'insert', table: 'Child', 'uuid-name': 'kid', row: { name: 'k' } },
    { op: 'select', table: 'Child', where: [['_uuid', '==', ['named-uuid', 'kid']]], columns: ['name'] },
  ]);
  const kid = uuidOf(res[1]);
  assert.deepEqual(res[2], { rows: [{ name: 'k' }] });
  assert.deepEqual(rows(db, 'Root', ['children'])[0], { children: ['uuid', kid] });
  assert.equal(db.tables.get('Child')!.size, 1);

  assert.deepEqual(
    errorOf(run(db, [
      { op: 'insert', table: 'Leaf', 'uuid-name': 'x', row: {} },
      { op: 'insert', table: 'Leaf', 'uuid-name': 'x', row: {} },
    ])),
    { error: 'duplicate uuid-name', details: 'This "uuid-name" appeared on an earlier "insert" operation.', syntax: '"x"' },
  );
  // As in ovsdb-server, an undefined name stands for a fresh uuid that no row has.
  const dangling = run(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['children', 'insert', ['named-uuid', 'ghost']]] }]);
  assert.equal(dangling.results.length, 2);
  assert.equal(errorOf(dangling).error, 'referential integrity violation');
  assert.match(errorOf(dangling).details!, new RegExp(`^Table Root column children row ${r} references nonexistent row [0-9a-f-]{36} in table Child\\.$`));
});

test('referential integrity: nonexistent targets and deleting a referenced row', () => {
  const db = new Database(SCHEMA);
  const ghost = '99999999-9999-9999-9999-999999999999';
  const out = run(db, [
    { op: 'insert', table: 'Root', 'uuid-name': 'r', row: { name: 'a', children: ['uuid', ghost] } },
  ]);
  assert.equal(out.results.length, 2, 'a commit failure is an extra element after all operation results');
  const r = uuidOf(out.results[0]);
  assert.deepEqual(out.results[1], {
    error: 'referential integrity violation',
    details: `Table Root column children row ${r} references nonexistent row ${ghost} in table Child.`,
  });
  assert.equal(db.tables.get('Root')!.size, 0);

  const res = ok(db, [
    { op: 'insert', table: 'Root', row: { name: 'a', children: ['named-uuid', 'c'] } },
    { op: 'insert', table: 'Child', 'uuid-name': 'c', row: { name: 'c' } },
  ]);
  const c = uuidOf(res[1]);
  const del = run(db, [{ op: 'delete', table: 'Child', where: [] }]);
  assert.deepEqual(del.results, [
    { count: 1 },
    { error: 'referential integrity violation', details: `cannot delete Child row ${c} because of 1 remaining reference(s)` },
  ]);
  assert.equal(db.tables.get('Child')!.size, 1);
});

test('garbage collection: unreferenced non-root rows vanish, in cascade', () => {
  const db = new Database(SCHEMA);
  // An unreferenced Child is accepted, given a uuid, and collected at commit.
  const lone = run(db, [{ op: 'insert', table: 'Child', row: { name: 'orphan' } }]);
  assert.equal(uuidOf(lone.results[0]).length, 36);
  assert.ok(lone.kind === 'done' && lone.change === null);
  assert.equal(db.tables.get('Child')!.size, 0);

  const res = ok(db, [
    { op: 'insert', table: 'Root', row: { name: 'a', children: ['named-uuid', 'c'] } },
    { op: 'insert', table: 'Child', 'uuid-name': 'c', row: { name: 'c', leaf: ['named-uuid', 'l'] } },
    { op: 'insert', table: 'Leaf', 'uuid-name': 'l', row: { v: 1 } },
  ]);
  const [root, child, leaf] = res.map(uuidOf);
  assert.equal(db.tables.get('Leaf')!.size, 1);

  // Dropping the root's reference collects the child and, through it, the leaf.
  const out = run(db, [{ op: 'update', table: 'Root', where: [], row: { children: ['set', []] } }]);
  assert.ok(out.kind === 'done' && out.change);
  assert.equal(db.tables.get('Child')!.size, 0);
  assert.equal(db.tables.get('Leaf')!.size, 0);
  const ch = out.change.tables;
  assert.equal(ch.get('Child')!.get(child!)!.new, null);
  assert.equal(ch.get('Leaf')!.get(leaf!)!.new, null);
  assert.ok(ch.get('Root')!.get(root!)!.new);
  assert.equal(db.refCount('Child', child!), 0);
});

test('weak references to deleted rows are dropped, and an emptied min-1 column is an error', () => {
  const db = new Database(SCHEMA);
  const res = ok(db, [
    { op: 'insert', table: 'Root', row: { name: 'a', children: ['set', [['named-uuid', 'c1'], ['named-uuid', 'c2']]], watch: ['set', [['named-uuid', 'c1'], ['named-uuid', 'c2']]] } },
    { op: 'insert', table: 'Child', 'uuid-name': 'c1', row: { name: 'c1' } },
    { op: 'insert', table: 'Child', 'uuid-name': 'c2', row: { name: 'c2' } },
  ]);
  const [root, c1, c2] = res.map(uuidOf);
  // A weak reference to a row that does not exist is silently dropped on insert.
  const h = uuidOf(ok(db, [{ op: 'insert', table: 'Holder', row: { w: ['set', [['uuid', c1], ['uuid', '99999999-9999-9999-9999-999999999999']]] } }])[0]);
  assert.deepEqual(rows(db, 'Holder', ['w']), [{ w: ['uuid', c1] }]);

  // Removing c2 from children garbage-collects it, and Root.watch loses it too.
  const out = run(db, [{ op: 'mutate', table: 'Root', where: [], mutations: [['children', 'delete', ['uuid', c2]]] }]);
  assert.ok(out.kind === 'done' && out.change);
  assert.deepEqual(rows(db, 'Root', ['watch']), [{ watch: ['uuid', c1] }]);
  assert.equal(out.change.tables.get('Child')!.get(c2!)!.new, null);

  // Holder.w must keep at least one element: collecting c1 would empty it.
  const before = snapshot(db);
  const bad = run(db, [{ op: 'update', table: 'Root', where: [], row: { children: ['set', []] } }]);
  assert.deepEqual(errorOf(bad), {
    error: 'constraint violation',
    details:
      `Deletion of 1 weak reference(s) to deleted (or never-existing) rows from column "w" in "Holder" row ${h} ` +
      'caused this column to become empty, but constraints on this column disallow an empty column.',
  });
  assert.equal(snapshot(db), before);
  assert.ok(root);
});

test('maxRows and unique indexes are checked at commit', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a');
  newRoot(db, 'b');
  newRoot(db, 'c');
  assert.deepEqual(errorOf(run(db, [{ op: 'insert', table: 'Root', row: { name: 'd' } }])), {
    error: 'constraint violation',
    details: 'transaction causes "Root" table to contain 4 rows, greater than the schema-defined limit of 3 row(s)',
  });
  // Deleting one row in the same transaction makes room.
  ok(db, [
    { op: 'delete', table: 'Root', where: [['name', '==', 'c']] },
    { op: 'insert', table: 'Root', row: { name: 'd' } },
  ]);
  const dupOut = run(db, [
    { op: 'delete', table: 'Root', where: [['name', '==', 'd']] },
    { op: 'insert', table: 'Root', row: { name: 'a' } },
  ]);
  const e = errorOf(dupOut);
  assert.equal(e.error, 'constraint violation');
  const inserted = uuidOf(dupOut.results[1]);
  // As ovsdb-server does, the row that was already there is named first.
  const [first, second] = [a, inserted];
  const describe = (u: string) =>
    u === a
      ? 'existed in the database before this transaction and was not modified by the transaction.'
      : 'was inserted by this transaction.';
  assert.equal(
    e.details,
    'Transaction causes multiple rows in "Root" table to have identical values (a) for index on column "name".  ' +
      `First row, with UUID ${first}, ${describe(first)}  Second row, with UUID ${second}, ${describe(second)}`,
  );
  assert.equal(dupOut.results.length, 3);
});

test('wait: satisfied, failing at once with timeout 0, blocking with a deadline or forever', () => {
  const db = new Database(SCHEMA);
  newRoot(db, 'a', { n: 1 });
  const wait = (extra: Record<string, unknown>) => ({
    op: 'wait', table: 'Root', where: [['name', '==', 'a']], columns: ['n'], rows: [{ n: 1 }], until: '==', ...extra,
  });
  assert.deepEqual(ok(db, [wait({}), { op: 'insert', table: 'Root', row: { name: 'b' } }])[0], {});
  assert.deepEqual(ok(db, [wait({ until: '!=', rows: [{ n: 2 }] })]), [{}]);

  const immediate = run(db, [wait({ rows: [{ n: 2 }], timeout: 0 }), { op: 'comment', comment: 'x' }]);
  assert.deepEqual(immediate.results, [{ error: 'timed out', details: '"where" clause test failed' }, null]);

  const blocked = run(db, [{ op: 'insert', table: 'Root', row: { name: 'c' } }, wait({ rows: [{ n: 2 }], timeout: 300 })]);
  assert.equal(blocked.kind, 'blocked');
  assert.ok(blocked.kind === 'blocked');
  assert.equal(blocked.deadline, 10_300);
  assert.deepEqual(blocked.results[1], { error: 'timed out', details: '"wait" timed out after 300 ms' });
  assert.equal(db.tables.get('Root')!.size, 2, 'a blocked transaction commits nothing');

  // Re-run later, as the server does after each commit and at the deadline.
  const later = run(db, [wait({ rows: [{ n: 2 }], timeout: 300 })], ctx({ now: () => 10_301, startedAt: 10_000 }));
  assert.deepEqual(later.results, [{ error: 'timed out', details: '"wait" timed out after 301 ms' }]);
  ok(db, [{ op: 'update', table: 'Root', where: [['name', '==', 'a']], row: { n: 2 } }]);
  const nowOk = run(db, [wait({ rows: [{ n: 2 }], timeout: 300 })], ctx({ now: () => 10_100, startedAt: 10_000 }));
  assert.deepEqual(nowOk.results, [{}]);

  const forever = run(db, [wait({ rows: [{ n: 3 }] })]);
  assert.ok(forever.kind === 'blocked' && forever.deadline === null);
  assert.equal(errorOf(run(db, [wait({ until: '<' })])).details, '"until" must be "==" or "!="');
});

test('compileWhere: monitor_cond clauses are alternatives, and an empty condition selects all', () => {
  const db = new Database(SCHEMA);
  const a = newRoot(db, 'a', { n: 1 });
  const b = newRoot(db, 'b', { n: 2 });
  const ra = db.tables.get('Root')!.get(a)!;
  const rb = db.tables.get('Root')!.get(b)!;
  const table = SCHEMA.tables.get('Root')!;
  const anyOf = compileWhere(table, [['name', '==', 'a'], ['n', '==', 2]]);
  assert.equal(anyOf(ra), true);
  assert.equal(anyOf(rb), true);
  const uuids = compileWhere(table, [['_uuid', '==', ['uuid', a]], ['_uuid', '==', ['uuid', '99999999-9999-9999-9999-999999999999']]]);
  assert.equal(uuids(ra), true);
  assert.equal(uuids(rb), false);
  assert.equal(compileWhere(table, [])(rb), true);
  assert.equal(compileWhere(table, [false])(rb), false);
  assert.throws(() => compileWhere(table, [['_uuid', '==', ['named-uuid', 'x']]]), { name: 'OvsdbError' });
});

test('a reserved database rejects writes', () => {
  const schema = parseSchema({ name: '_Server', version: '1.0.0', tables: { T: { columns: { x: { type: 'integer' } } } } });
  const db = new Database(schema);
  assert.deepEqual(errorOf(run(db, [{ op: 'insert', table: 'T', row: {} }])), {
    error: 'not allowed',
    details: 'insert operation not allowed on table in reserved database _Server',
  });
  assert.deepEqual(ok(db, [{ op: 'select', table: 'T', where: [] }]), [{ rows: [] }]);
});

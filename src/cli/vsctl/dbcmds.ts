// The generic database commands shared by OVS's *ctl tools: list, find, get,
// set, add, remove, clear, create, destroy, wait-until, comment, and show.
import type { Datum } from '../../db/index.js';
import type { IdlRow } from '../../db/index.js';
import type { ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from '../../db/index.js';
import type { CommandContext } from './context.js';
import { getColumn, getTable, sortedColumns } from './context.js';
import type { Cell, Table } from './output.js';
import type { SymbolTable } from './values.js';
import {
  TxnError,
  VsctlError,
  serializeJson,
  typeToEnglish,
  atomFromString,
  atomToString,
  datumCompare,
  datumFromString,
  datumIsDefault,
  datumSubtract,
  datumToString,
  datumUnion,
  excludesAll,
  findKey,
  includesAll,
  isMapType,
  isUuid,
  parseToken,
} from './values.js';

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

interface ColumnKeyValue {
  column: ColumnSchema;
  key: string | null;
  op: number;
  value: string | null;
}

/**
 * Splits "COLUMN[:KEY][OP VALUE]" (parse_column_key_value). With `operators`
 * null no value is expected; otherwise the longest operator that is followed
 * by something wins.
 */
function parseColumnKeyValue(arg: string, table: TableSchema, operators: string[] | null): ColumnKeyValue {
  const t = parseToken(arg, 0);
  if (t.token === '') throw new VsctlError(`${arg}: missing column name`);
  const column = getColumn(table, t.token);
  let p = t.pos;
  let key: string | null = null;
  if (arg[p] === ':') {
    const k = parseToken(arg, p + 1);
    key = k.token;
    p = k.pos;
  }
  if (!operators) {
    if (p < arg.length) throw new VsctlError(`${arg}: trailing garbage "${arg.slice(p)}" in argument`);
    return { column, key, op: -1, value: null };
  }
  let best = -1;
  let bestLen = 0;
  operators.forEach((op, i) => {
    if (op.length > bestLen && arg.startsWith(op, p) && p + op.length < arg.length) {
      best = i;
      bestLen = op.length;
    }
  });
  if (best < 0) {
    let msg = `${arg}: argument does not end in "${operators[0]}"`;
    if (operators.length === 2) msg += ` or "${operators[1]}"`;
    else if (operators.length > 2) {
      msg += operators.slice(1, -1).map((o) => `, "${o}"`).join('') + `, or "${operators[operators.length - 1]}"`;
    }
    throw new VsctlError(msg + ' followed by a value.');
  }
  return { column, key, op: best, value: arg.slice(p + bestLen) };
}

/** pre_parse_column_key_value: only the column name is checked up front. */
function preColumn(arg: string, table: TableSchema): void {
  const t = parseToken(arg, 0);
  if (t.token === '') throw new VsctlError(`${arg}: missing column name`);
  getColumn(table, t.token);
}

function parseColumnNames(spec: string | null | undefined, table: TableSchema): (ColumnSchema | null)[] {
  if (spec === null || spec === undefined) return [null, ...sortedColumns(table)];
  const out: (ColumnSchema | null)[] = [];
  for (const name of spec.split(/[, ]+/).filter((s) => s !== '')) {
    out.push(name.toLowerCase() === '_uuid' ? null : getColumn(table, name));
  }
  if (!out.length) throw new VsctlError('must specify at least one column name');
  return out;
}

/** Validates a command's table, column and argument names before connecting (the pre_* hooks). */
export function preDbCommand(schema: DatabaseSchema, name: string, argv: string[], options: Map<string, string | null>): string | null {
  switch (name) {
    case 'get': {
      const table = getTable(schema, argv[1]);
      for (const a of argv.slice(3)) if (!['_uuid', '-uuid'].includes(a.toLowerCase())) preColumn(a, table);
      return null;
    }
    case 'list':
    case 'find': {
      const table = getTable(schema, argv[1]);
      parseColumnNames(options.get('--columns'), table);
      if (name === 'find') for (const a of argv.slice(2)) preColumn(a, table);
      return null;
    }
    case 'set':
    case 'wait-until': {
      const table = getTable(schema, argv[1]);
      for (const a of argv.slice(3)) preColumn(a, table);
      return null;
    }
    case 'add':
    case 'remove':
      getColumn(getTable(schema, argv[1]), argv[3]);
      return null;
    case 'clear': {
      const table = getTable(schema, argv[1]);
      for (const a of argv.slice(3)) getColumn(table, a);
      return null;
    }
    case 'create': {
      const table = getTable(schema, argv[1]);
      if (!options.has('--id') && !table.isRoot) {
        return `applying "create" command to table ${table.name} without --id option will have no effect`;
      }
      return null;
    }
    case 'destroy':
      getTable(schema, argv[1]);
      return null;
    default:
      return null;
  }
}

function checkMutable(ctx: CommandContext, row: IdlRow, column: ColumnSchema): void {
  if (!ctx.db.isMutable(row, column)) {
    throw new VsctlError(`cannot modify read-only column ${column.name} in table ${row.table}`);
  }
}

function createSymbol(symtab: SymbolTable, id: string): { sym: ReturnType<SymbolTable['insert']>; isNew: boolean } {
  if (!id.startsWith('@')) throw new VsctlError(`row id "${id}" does not begin with "@"`);
  const isNew = symtab.get(id) === undefined;
  const sym = symtab.insert(id);
  if (sym.created) throw new VsctlError(`row id "${id}" may only be specified on one --id option`);
  sym.created = true;
  return { sym, isNew };
}

function listRecord(ctx: CommandContext, row: IdlRow, columns: (ColumnSchema | null)[], out: Table): void {
  out.rows.push(
    columns.map((c): Cell => (c ? { type: c.type, datum: ctx.db.get(row, c.name) } : { type: UUID_TYPE, datum: { keys: [row.uuid], values: null } })),
  );
}

function makeTable(columns: (ColumnSchema | null)[]): Table {
  return { headings: columns.map((c) => (c ? c.name : '_uuid')), rows: [] };
}

function cmdGet(ctx: CommandContext): void {
  const id = ctx.options.get('--id');
  const mustExist = !ctx.options.has('--if-exists');
  if (id !== undefined && !mustExist) throw new VsctlError('--if-exists and --id may not be specified together');
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const recordId = ctx.argv[2];
  const row = ctx.db.getRow(table, recordId, mustExist);
  if (!row) return;
  if (id !== undefined && id !== null) {
    const { sym, isNew } = createSymbol(ctx.db.symtab, id);
    if (!isNew) throw new VsctlError(`row id "${id}" specified on "get" command was used before it was defined`);
    sym.uuid = row.uuid;
    sym.strongRef = true;
  }
  for (const arg of ctx.argv.slice(3)) {
    if (['_uuid', '-uuid'].includes(arg.toLowerCase())) {
      ctx.output += row.uuid + '\n';
      continue;
    }
    const { column, key } = parseColumnKeyValue(arg, table, null);
    ctx.db.verify(row, column.name);
    const datum = ctx.db.get(row, column.name);
    if (key !== null) {
      if (!column.type.value) throw new VsctlError(`cannot specify key to get for non-map column ${column.name}`);
      const k = atomFromString(column.type.key, key, ctx.db.symtab).atom;
      const idx = findKey(column.type, datum, k);
      if (idx < 0) {
        if (mustExist) throw new VsctlError(`no key "${key}" in ${table.name} record "${recordId}" column ${column.name}`);
      } else ctx.output += atomToString(column.type.value.type, (datum.values ?? [])[idx]);
    } else ctx.output += datumToString(column.type, datum);
    ctx.output += '\n';
  }
}

function cmdList(ctx: CommandContext): void {
  const mustExist = !ctx.options.has('--if-exists');
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const columns = parseColumnNames(ctx.options.get('--columns'), table);
  const out = (ctx.table = makeTable(columns));
  if (ctx.argv.length > 2) {
    for (const id of ctx.argv.slice(2)) {
      const row = ctx.db.getRow(table, id, mustExist);
      if (row) listRecord(ctx, row, columns, out);
    }
  } else {
    for (const row of ctx.db.rows(table.name)) listRecord(ctx, row, columns, out);
  }
}

const RELOPS = ['=', '!=', '<', '>', '<=', '>=', '{=}', '{!=}', '{<}', '{>}', '{<=}', '{>=}', '{in}', '{not-in}'];

function evaluateRelop(type: ColumnType, a: Datum, b: Datum, op: string): boolean {
  switch (op) {
    case '=':
    case '{=}':
      return datumCompare(type, a, b) === 0;
    case '!=':
    case '{!=}':
      return datumCompare(type, a, b) !== 0;
    case '<':
      return datumCompare(type, a, b) < 0;
    case '>':
      return datumCompare(type, a, b) > 0;
    case '<=':
      return datumCompare(type, a, b) <= 0;
    case '>=':
      return datumCompare(type, a, b) >= 0;
    case '{<}':
      return b.keys.length > a.keys.length && includesAll(type, a, b);
    case '{>}':
      return a.keys.length > b.keys.length && includesAll(type, b, a);
    case '{<=}':
    case '{in}':
      return includesAll(type, a, b);
    case '{>=}':
      return includesAll(type, b, a);
    case '{not-in}':
      return excludesAll(type, a, b);
    default:
      return false;
  }
}

function checkCondition(ctx: CommandContext, table: TableSchema, row: IdlRow, arg: string): boolean {
  const { column, key, op, value } = parseColumnKeyValue(arg, table, RELOPS);
  if (value === null) throw new VsctlError(`${arg}: missing value`);
  const relop = RELOPS[op];
  const have = ctx.db.get(row, column.name);
  if (key !== null) {
    if (!column.type.value) throw new VsctlError(`cannot specify key to check for non-map column ${column.name}`);
    const wantKey = atomFromString(column.type.key, key, ctx.db.symtab).atom;
    const type: ColumnType = { key: column.type.value, min: column.type.min, max: Infinity };
    const b = datumFromString(type, value, ctx.db.symtab);
    const idx = findKey(column.type, have, wantKey);
    const isSetOp = relop.startsWith('{');
    if (idx < 0 && !isSetOp) return false;
    const a: Datum = idx >= 0 ? { keys: [(have.values ?? [])[idx]], values: null } : { keys: [], values: null };
    return evaluateRelop(type, a, b, relop);
  }
  const want = datumFromString(column.type, value, ctx.db.symtab);
  return evaluateRelop({ ...column.type, max: Infinity }, have, want, relop);
}

function cmdFind(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const columns = parseColumnNames(ctx.options.get('--columns'), table);
  const out = (ctx.table = makeTable(columns));
  for (const row of ctx.db.rows(table.name)) {
    if (ctx.argv.slice(2).every((a) => checkCondition(ctx, table, row, a))) listRecord(ctx, row, columns, out);
  }
}

/** set_column: "COLUMN[:KEY]=VALUE" applied to a row. */
export function setColumn(ctx: CommandContext, table: TableSchema, row: IdlRow, arg: string): void {
  const { column, key, value } = parseColumnKeyValue(arg, table, ['=']);
  if (value === null) throw new VsctlError(`${arg}: missing value`);
  checkMutable(ctx, row, column);
  const type = column.type;
  if (key !== null) {
    if (!type.value) throw new VsctlError(`cannot specify key to set for non-map column ${column.name}`);
    const k = atomFromString(type.key, key, ctx.db.symtab).atom;
    const v = atomFromString(type.value, value, ctx.db.symtab).atom;
    const old = ctx.db.get(row, column.name);
    const merged = datumUnion(type, { keys: [k], values: [v] }, old);
    ctx.db.verify(row, column.name);
    ctx.db.set(row, column.name, merged);
  } else {
    ctx.db.set(row, column.name, datumFromString(type, value, ctx.db.symtab));
  }
}

function cmdSet(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const row = ctx.db.getRow(table, ctx.argv[2], !ctx.options.has('--if-exists'));
  if (!row) return;
  for (const arg of ctx.argv.slice(3)) setColumn(ctx, table, row, arg);
  ctx.invalidateCache();
}

function cmdAdd(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const column = getColumn(table, ctx.argv[3]);
  const row = ctx.db.getRow(table, ctx.argv[2], !ctx.options.has('--if-exists'));
  if (!row) return;
  checkMutable(ctx, row, column);
  const type = column.type;
  let datum = ctx.db.get(row, column.name);
  const addType: ColumnType = { ...type, min: 1, max: Infinity };
  for (const arg of ctx.argv.slice(4)) datum = datumUnion(type, datum, datumFromString(addType, arg, ctx.db.symtab));
  if (datum.keys.length > type.max && ctx.lastCommand) {
    // ovs-vsctl sends the last command's additions as a mutation, so the server is the one to object.
    const details = `Attempted to store ${datum.keys.length} elements in ${typeToEnglish(type)}.`;
    throw new TxnError(serializeJson({ details, error: 'constraint violation' }));
  }
  if (datum.keys.length > type.max) {
    throw new VsctlError(
      `"add" operation would put ${datum.keys.length} ${type.value ? 'pairs' : 'values'} in column ${column.name} of table ${table.name} but the maximum number is ${type.max}`,
    );
  }
  ctx.db.verify(row, column.name);
  ctx.db.set(row, column.name, datum);
  ctx.invalidateCache();
}

function cmdRemove(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const column = getColumn(table, ctx.argv[3]);
  const row = ctx.db.getRow(table, ctx.argv[2], !ctx.options.has('--if-exists'));
  if (!row) return;
  checkMutable(ctx, row, column);
  const type = column.type;
  let datum = ctx.db.get(row, column.name);
  for (const arg of ctx.argv.slice(4)) {
    let rmType: ColumnType = { ...type, min: 1, max: Infinity };
    let rm: Datum;
    try {
      rm = datumFromString(rmType, arg, ctx.db.symtab);
    } catch (e) {
      if (!isMapType(rmType)) throw e;
      rmType = { key: type.key, min: 1, max: Infinity };
      rm = datumFromString(rmType, arg, ctx.db.symtab);
    }
    datum = datumSubtract(type, datum, rmType, rm);
  }
  if (datum.keys.length < type.min) {
    throw new VsctlError(
      `"remove" operation would put ${datum.keys.length} ${type.value ? 'pairs' : 'values'} in column ${column.name} of table ${table.name} but the minimum number is ${type.min}`,
    );
  }
  ctx.db.verify(row, column.name);
  ctx.db.set(row, column.name, datum);
  ctx.invalidateCache();
}

function cmdClear(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const row = ctx.db.getRow(table, ctx.argv[2], !ctx.options.has('--if-exists'));
  if (!row) return;
  for (const arg of ctx.argv.slice(3)) {
    const column = getColumn(table, arg);
    checkMutable(ctx, row, column);
    if (column.type.min > 0) {
      throw new VsctlError(`"clear" operation cannot be applied to column ${column.name} of table ${table.name}, which is not allowed to be empty`);
    }
    ctx.db.set(row, column.name, { keys: [], values: column.type.value ? [] : null });
  }
  ctx.invalidateCache();
}

function cmdCreate(ctx: CommandContext): void {
  const id = ctx.options.get('--id');
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  let uuid: string | undefined;
  if (id !== undefined && id !== null) {
    if (isUuid(id)) uuid = id.toLowerCase();
    else {
      const { sym } = createSymbol(ctx.db.symtab, id);
      if (table.isRoot) sym.strongRef = true;
      uuid = sym.uuid;
    }
  }
  const row = ctx.db.insert(table.name, uuid);
  for (const arg of ctx.argv.slice(2)) setColumn(ctx, table, row, arg);
  ctx.output += row.uuid;
}

function cmdDestroy(ctx: CommandContext, warn: (msg: string) => void): void {
  const mustExist = !ctx.options.has('--if-exists');
  const all = ctx.options.has('--all');
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  if (all && ctx.argv.length > 2) throw new VsctlError('--all and records argument should not be specified together');
  if (all && !mustExist) throw new VsctlError('--all and --if-exists should not be specified together');
  if (!all && ctx.argv.length === 2) {
    warn('either --all or records argument should be specified');
    return;
  }
  if (all) {
    for (const row of ctx.db.rows(table.name)) ctx.db.delete(row);
  } else {
    for (const id of ctx.argv.slice(2)) {
      const row = ctx.db.getRow(table, id, mustExist);
      if (row) ctx.db.delete(row);
    }
  }
  ctx.invalidateCache();
}

function cmdWaitUntil(ctx: CommandContext): void {
  const table = getTable(ctx.db.schema, ctx.argv[1]);
  const row = ctx.db.getRow(table, ctx.argv[2], false);
  if (!row) {
    ctx.tryAgain = true;
    return;
  }
  for (const arg of ctx.argv.slice(3)) {
    if (!checkCondition(ctx, table, row, arg)) {
      ctx.tryAgain = true;
      return;
    }
  }
}

// ------------------------------------------------------------------ show

interface ShowTable {
  table: string;
  nameColumn: string | null;
  columns: string[];
}

const SHOW_TABLES: ShowTable[] = [
  { table: 'Open_vSwitch', nameColumn: null, columns: ['manager_options', 'bridges', 'ovs_version'] },
  { table: 'Bridge', nameColumn: 'name', columns: ['controller', 'fail_mode', 'datapath_type', 'ports'] },
  { table: 'Port', nameColumn: 'name', columns: ['tag', 'trunks', 'interfaces'] },
  { table: 'Interface', nameColumn: 'name', columns: ['type', 'options', 'error', 'bfd_status'] },
  { table: 'Controller', nameColumn: 'target', columns: ['is_connected'] },
  { table: 'Manager', nameColumn: 'target', columns: ['is_connected'] },
];

function showRow(ctx: CommandContext, row: IdlRow, level: number, shown: Set<string>): void {
  const show = SHOW_TABLES.find((s) => s.table === row.table);
  const ind = (n: number): string => ' '.repeat(n * 4);
  ctx.output += ind(level);
  if (show?.nameColumn) {
    ctx.output += `${show.table} ${datumToString(ctx.db.columnType(show.table, show.nameColumn), ctx.db.get(row, show.nameColumn))}`;
  } else ctx.output += row.uuid;
  ctx.output += '\n';
  if (!show || shown.has(show.table)) return;
  shown.add(show.table);
  for (const cname of show.columns) {
    const type = ctx.db.columnType(show.table, cname);
    const datum = ctx.db.get(row, cname);
    if (type.key.type === 'uuid' && type.key.refTable) {
      const ref = SHOW_TABLES.find((s) => s.table === type.key.refTable);
      if (ref) {
        for (const u of datum.keys) {
          const r = ctx.db.row(ref.table, u as string);
          if (r) showRow(ctx, r, level + 1, shown);
        }
        continue;
      }
    } else if (type.value?.type === 'uuid' && type.value.refTable) {
      const ref = SHOW_TABLES.find((s) => s.table === type.value?.refTable);
      if (ref?.nameColumn) {
        ctx.output += `${ind(level + 1)}${cname}:\n`;
        datum.keys.forEach((k, j) => {
          const r = ctx.db.row(ref.table, (datum.values ?? [])[j] as string);
          ctx.output += `${ind(level + 2)}${atomToString(type.key.type, k)}=`;
          ctx.output += r ? datumToString(ctx.db.columnType(ref.table, ref.nameColumn as string), ctx.db.get(r, ref.nameColumn as string)) : '"<null>"';
          ctx.output += '\n';
        });
        continue;
      }
    }
    if (!datumIsDefault(type, datum)) ctx.output += `${ind(level + 1)}${cname}: ${datumToString(type, datum)}\n`;
  }
  shown.delete(show.table);
}

function cmdShow(ctx: CommandContext): void {
  const shown = new Set<string>();
  for (const row of ctx.db.rows('Open_vSwitch')) showRow(ctx, row, 0, shown);
}

/** Runs a database command; returns false if `name` is not one. */
export function runDbCommand(ctx: CommandContext, name: string, warn: (msg: string) => void): boolean {
  switch (name) {
    case 'comment':
      return true;
    case 'get':
      cmdGet(ctx);
      return true;
    case 'list':
      cmdList(ctx);
      return true;
    case 'find':
      cmdFind(ctx);
      return true;
    case 'set':
      cmdSet(ctx);
      return true;
    case 'add':
      cmdAdd(ctx);
      return true;
    case 'remove':
      cmdRemove(ctx);
      return true;
    case 'clear':
      cmdClear(ctx);
      return true;
    case 'create':
      cmdCreate(ctx);
      return true;
    case 'destroy':
      cmdDestroy(ctx, warn);
      return true;
    case 'wait-until':
      cmdWaitUntil(ctx);
      return true;
    case 'show':
      cmdShow(ctx);
      return true;
    default:
      return false;
  }
}

/** post_create: replace the provisional uuid printed by "create" with the real one. */
export function postCreate(output: string, inserted: Map<string, string> | null): string {
  const real = inserted?.get(output);
  return (real ?? output) + '\n';
}

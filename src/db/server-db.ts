// The _Server database every ovsdb-server (>= 2.9) hosts: one read-only
// "Database" row per served database, from which the C IDL (ovs-vsctl,
// ovs-vswitchd) learns that a database exists and takes its schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/pidfile.js';
import type { Datum } from './datum.js';
import { newUuid } from './datum.js';
import { Database } from './database.js';
import type { DatabaseSchema } from './schema.js';
import { parseSchema } from './schema.js';
import { sortedJson } from './errors.js';

export const SERVER_DB_NAME = '_Server';

let cachedSchema: DatabaseSchema | null = null;

export function serverSchema(): DatabaseSchema {
  cachedSchema ??= parseSchema(JSON.parse(readFileSync(join(packageRoot(), 'schemas/_server.ovsschema'), 'utf8')));
  return cachedSchema;
}

export interface ServedDbInfo {
  name: string;
  schema: DatabaseSchema;
}

const scalar = (a: string | number | boolean): Datum => ({ keys: [a], values: null });
const empty = (): Datum => ({ keys: [], values: null });

/**
 * Keeps the _Server contents: a Database row per served database (and _Server
 * itself), standalone, connected and leader. A row keeps its uuid for as long as
 * its database is served.
 */
export class ServerDatabase {
  readonly schema = serverSchema();
  readonly db = new Database(this.schema);
  private readonly uuids = new Map<string, string>();
  private infos: ServedDbInfo[] = [];

  /** Replaces the set of served databases (the _Server database itself is always listed). */
  setDatabases(dbs: ServedDbInfo[]): void {
    this.infos = [...dbs.filter((d) => d.name !== SERVER_DB_NAME), { name: SERVER_DB_NAME, schema: this.schema }];
    fill(this.db, this.infos, this.uuids);
  }
}

function fill(db: Database, infos: ServedDbInfo[], uuids: Map<string, string>): void {
  const table = db.tables.get('Database')!;
  table.clear();
  for (const info of infos) {
    let uuid = uuids.get(info.name);
    if (uuid === undefined) {
      uuid = newUuid();
      uuids.set(info.name, uuid);
    }
    const data = new Map<string, Datum>([
      ['name', scalar(info.name)],
      ['model', scalar('standalone')],
      ['connected', scalar(true)],
      ['leader', scalar(true)],
      // OVS stores the schema text with sorted keys (JSSF_SORT).
      ['schema', scalar(sortedJson(info.schema.json))],
      ['cid', empty()],
      ['sid', empty()],
      ['index', empty()],
    ]);
    table.set(uuid, { uuid, version: newUuid(), data });
  }
}

// Port and table names, fetched the way ovs-ofctl fetches them: each map over
// a connection of its own, once per target. Ports come from FEATURES_REPLY
// before OF1.3 and from PORT_DESC after; tables from table statistics before
// OF1.3 and from TABLE_FEATURES after.

import { decodeMessage, type FeaturesReply10, type MultipartRequest, type Port, type TableFeatures } from '../../openflow/index.js';
import { acceptNames, fatal, run, showNames, type Io, type OfctlOptions } from './common.js';
import { collectMultipart, openVconn, printMessage, type Vconn } from './vconn.js';

export type PortMap = ReadonlyMap<number, string>;
export type TableMap = ReadonlyMap<number, string>;

const portMaps = new Map<string, Promise<Map<number, string>>>();
const tableMaps = new Map<string, Promise<Map<number, string>>>();

/** OVS looks names up over active connections only (bridge names and unix:/tcp: names). */
function lookupPossible(target: string): boolean {
  return !target.includes(':') || /^(unix|tcp|ssl):/.test(target);
}

/** Every port of the switch on `v` (port_iterator). */
export async function fetchPorts(v: Vconn, o: OfctlOptions): Promise<Port[]> {
  if (v.version < 4) {
    const b = await run(v.transact({ version: v.version, kind: 'FEATURES_REQUEST', body: {} }), `talking to ${v.name}`);
    let m;
    try {
      m = decodeMessage(b);
    } catch {
      fatal(`${v.name}: received bad features reply`);
    }
    if (m.kind !== 'FEATURES_REPLY') fatal(`${v.name}: received bad features reply`);
    if ('ports' in m.body) return (m.body as FeaturesReply10).ports as Port[];
  }
  const body: MultipartRequest = { stat: 'PORT_DESC', flags: 0, body: v.version >= 6 ? { port_no: 0xffffffff } : {} };
  const { parts, error } = await collectMultipart(v, { version: v.version, kind: 'MULTIPART_REQUEST', body }, o);
  if (error) fatal(`received bad reply: ${printMessage(error, o.verbosity + 1)}`);
  return parts.flatMap((p) => (p.body as { entries: Port[] }).entries);
}

async function loadPortMap(target: string, o: OfctlOptions, io: Io): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  if (!lookupPossible(target)) return map;
  const v = await openVconn(target, o, io);
  try {
    for (const p of await fetchPorts(v, o)) map.set(p.port_no, p.name);
  } finally {
    v.close();
  }
  return map;
}

async function loadTableMap(target: string, o: OfctlOptions, io: Io): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  if (!lookupPossible(target)) return map;
  const v = await openVconn(target, o, io);
  try {
    const body: MultipartRequest = v.version < 4 ? { stat: 'TABLE', flags: 0, body: {} } : { stat: 'TABLE_FEATURES', flags: 0, body: { entries: [] } };
    const { parts, error } = await collectMultipart(v, { version: v.version, kind: 'MULTIPART_REQUEST', body }, o);
    if (error) fatal(`received bad reply: ${printMessage(error, o.verbosity + 1)}`);
    for (const p of parts) {
      for (const t of (p.body as { entries: (TableFeatures | { table_id: number; name?: string })[] }).entries) {
        if (t.name) map.set(t.table_id, t.name);
      }
    }
  } finally {
    v.close();
  }
  return map;
}

function cached(cache: Map<string, Promise<Map<number, string>>>, target: string, load: () => Promise<Map<number, string>>): Promise<Map<number, string>> {
  let p = cache.get(target);
  if (!p) {
    p = load();
    cache.set(target, p);
  }
  return p;
}

export function portMap(target: string, o: OfctlOptions, io: Io): Promise<PortMap> {
  return cached(portMaps, target, () => loadPortMap(target, o, io));
}

export function tableMap(target: string, o: OfctlOptions, io: Io): Promise<TableMap> {
  return cached(tableMaps, target, () => loadTableMap(target, o, io));
}

/** ports_to_accept: the port map unless --no-names. */
export async function portsToAccept(target: string, o: OfctlOptions, io: Io): Promise<PortMap | undefined> {
  return acceptNames(o) ? portMap(target, o, io) : undefined;
}

export async function tablesToAccept(target: string, o: OfctlOptions, io: Io): Promise<TableMap | undefined> {
  return acceptNames(o) ? tableMap(target, o, io) : undefined;
}

/** ports_to_show: the port map with --names (or on a terminal). */
export async function portsToShow(target: string, o: OfctlOptions, io: Io): Promise<PortMap | undefined> {
  return showNames(o) ? portMap(target, o, io) : undefined;
}

export async function tablesToShow(target: string, o: OfctlOptions, io: Io): Promise<TableMap | undefined> {
  return showNames(o) ? tableMap(target, o, io) : undefined;
}

/** Both maps in the order a C call `f(..., ports_to_accept(x), tables_to_accept(x))` makes them: tables first. */
export async function namesForParse(target: string, o: OfctlOptions, io: Io): Promise<{ ports?: PortMap; tables?: TableMap }> {
  const tables = await tablesToAccept(target, o, io);
  const ports = await portsToAccept(target, o, io);
  return { ports, tables };
}

/** The port number of `s` (a number, reserved name, or a port's name): str_to_port_no. */
export async function portNumber(target: string, s: string, o: OfctlOptions, io: Io, parse: (s: string) => number | undefined): Promise<number> {
  const n = parse(s);
  if (n !== undefined) return n;
  const map = await portsToAccept(target, o, io);
  for (const [no, name] of map ?? []) if (name === s || `"${name}"` === s) return no;
  fatal(`${target}: unknown port \`${s}'`);
}

/**
 * Port and table names in flow text become numbers before the text layer
 * parses it (it knows numbers and reserved names only): in_port, out_port,
 * output, watch_port, enqueue, resubmit and table references.
 */
export function substituteNames(text: string, names: { ports?: PortMap; tables?: TableMap }): string {
  const portNo = new Map<string, number>();
  for (const [no, name] of names.ports ?? []) {
    portNo.set(name, no);
    portNo.set(`"${name}"`, no);
  }
  const tableNo = new Map<string, number>();
  for (const [no, name] of names.tables ?? []) tableNo.set(name, no);
  if (!portNo.size && !tableNo.size) return text;
  const tok = '("[^"]*"|[A-Za-z_][-A-Za-z0-9_.]*)';
  const port = (s: string): string => {
    const n = portNo.get(s);
    return n === undefined ? s : String(n);
  };
  let out = text.replace(new RegExp(`\\b(in_port|out_port|watch_port)([=:])${tok}`, 'g'), (m, k: string, sep: string, p: string) => `${k}${sep}${port(p)}`);
  out = out.replace(new RegExp(`\\b(output|enqueue|resubmit)([:(])${tok}`, 'g'), (m, k: string, sep: string, p: string) => `${k}${sep}${port(p)}`);
  out = out.replace(new RegExp(`\\b(table|goto_table)([=:])${tok}`, 'g'), (m, k: string, sep: string, t: string) => {
    const n = tableNo.get(t);
    return `${k}${sep}${n === undefined ? t : n}`;
  });
  return out;
}

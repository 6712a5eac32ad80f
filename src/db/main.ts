// tsw-dbserver: the OVSDB server daemon, command-line compatible with the
// common ovsdb-server options, plus `tsw-dbserver create DB SCHEMA` (what
// `ovsdb-tool create` does).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DbFile } from './storage.js';
import { OvsdbError } from './errors.js';
import { OvsdbServer } from './server.js';
import { SERVER_DB_NAME } from './server-db.js';
import {
  UsageError, absFileName, daemonUsage, dbdir, parseDaemonArgs, pkgdatadir, startDaemon,
} from '../lib/daemon.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../lib/jsonrpc.js';
import { packageRoot } from '../lib/pidfile.js';
import { setProgramName } from '../lib/program.js';
import { UnixctlError } from '../lib/unixctl.js';
import { vlogModule } from '../lib/vlog.js';
import { walkOptions } from '../lib/index.js';

const PROGRAM = 'tsw-dbserver';
const log = vlogModule('ovsdb_server');

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function usage(): string {
  return `${PROGRAM}: Open vSwitch database server (tsw)
usage: ${PROGRAM} [OPTIONS] [DATABASE...]
       ${PROGRAM} create DATABASE SCHEMA
where each DATABASE is a database file in ovsdb format.
The default DATABASE, if none is given, is
  ${dbdir()}/conf.db

Remote options:
  --remote=REMOTE         connect or listen to REMOTE (punix:FILE,
                          ptcp:PORT[:IP], pssl:PORT[:IP])
  --max-message-size=BYTES  largest JSON-RPC message accepted (default ${DEFAULT_MAX_MESSAGE_BYTES})

PKI configuration (required to use SSL):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
${daemonUsage(PROGRAM)}`;
}

interface ServerArgs {
  dbFiles: string[];
  remotes: string[];
  privateKey?: string;
  certificate?: string;
  caCert?: string;
  maxMessageBytes: number;
}

/** Parses the options that are ours (the daemon ones were taken out already). */
function parseServerArgs(rest: string[]): ServerArgs {
  const out: ServerArgs = { dbFiles: [], remotes: [], maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES };
  const short: Record<string, string> = { '-p': '--private-key', '-c': '--certificate', '-C': '--ca-cert' };
  walkOptions(rest, short, {
    positional: (arg) => out.dbFiles.push(arg),
    option: (name, value, required, arg) => {
    switch (name) {
      case '--remote':
        out.remotes.push(required());
        break;
      case '--private-key':
        out.privateKey = pkiFile(required());
        break;
      case '--certificate':
        out.certificate = pkiFile(required());
        break;
      case '--ca-cert':
      case '--bootstrap-ca-cert':
        out.caCert = pkiFile(required());
        break;
      case '--no-self-confinement':
        break;
      case '--user': {
        // ovs-ctl passes --user when OVS_USER is set; tsw does not switch users.
        const u = required();
        log.warn(`--user=${u}: changing user is not supported; running as the current user`);
        break;
      }
      case '--max-message-size': {
        const v = required();
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1024) throw new UsageError(`--max-message-size: "${v}" is not a byte count of at least 1024`);
        out.maxMessageBytes = n;
        break;
      }
      default:
        throw new UsageError(`unrecognized option '${arg}'`);
    }
    },
  });
  return out;
}

/** A PKI file name; "db:DB,TABLE,COLUMN" references (as ovs-ctl passes) are not supported and ignored. */
function pkiFile(value: string): string | undefined {
  if (!value.startsWith('db:')) return value;
  log.warn(`${value}: reading SSL settings from the database is not supported; ignoring`);
  return undefined;
}

function fail(message: string): never {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
  process.exit(1);
}

function errorText(e: unknown): string {
  if (e instanceof OvsdbError) return e.details ?? e.tag;
  return e instanceof Error ? e.message : String(e);
}

/** `tsw-dbserver create [DB [SCHEMA]]`, with ovsdb-tool's defaults. */
function create(args: string[]): void {
  if (args.length > 2) fail('create: too many arguments (usage: create [DATABASE [SCHEMA]])');
  const db = args[0] ?? `${dbdir()}/conf.db`;
  const schemaPath = args[1] ?? `${pkgdatadir()}/vswitch.ovsschema`;
  let schemaJson: object;
  try {
    schemaJson = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
  } catch (e) {
    fail(`${schemaPath}: ${e instanceof SyntaxError ? `syntax error: ${e.message}` : errorText(e)}`);
  }
  try {
    DbFile.create(db, schemaJson);
  } catch (e) {
    fail(errorText(e));
  }
}

async function serve(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseDaemonArgs>;
  let args: ServerArgs;
  try {
    parsed = parseDaemonArgs(argv, PROGRAM);
    args = parseServerArgs(parsed.rest);
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message} (use --help for help)`);
    throw e;
  }
  const { options } = parsed;
  if (options.help) {
    process.stdout.write(usage());
    process.exit(0);
  }
  if (options.version) {
    process.stdout.write(`${PROGRAM} (tsw) ${version()}\n`);
    process.exit(0);
  }
  const cwd = process.cwd();
  const files = (args.dbFiles.length > 0 ? args.dbFiles : [`${dbdir()}/conf.db`]).map((f) => absFileName(cwd, f));
  // Check before detaching, so the error reaches the terminal and the exit status.
  for (const f of files) if (!existsSync(f)) fail(`${f}: database file does not exist (create it with "${PROGRAM} create ${f} SCHEMA")`);
  const remotes = args.remotes.map((r) => (r.startsWith('punix:') ? `punix:${absFileName(cwd, r.slice(6))}` : r));

  const server = new OvsdbServer({ maxMessageBytes: args.maxMessageBytes });
  server.tls = {
    privateKey: args.privateKey && absFileName(cwd, args.privateKey),
    certificate: args.certificate && absFileName(cwd, args.certificate),
    caCert: args.caCert && absFileName(cwd, args.caCert),
  };
  const daemon = await startDaemon(options, { program: PROGRAM, version: version() });
  for (const f of files) {
    try {
      const { file, db } = DbFile.open(f, (msg) => log.warn(msg));
      server.addDatabase(db, file, f);
    } catch (e) {
      fail(`${f}: ${errorText(e).replace(`${f}: `, '')}`);
    }
  }
  for (const r of remotes) {
    if (r.startsWith('db:')) {
      log.warn(`${r}: remotes read from the database are not supported; ignoring`);
      continue;
    }
    try {
      await server.addRemote(r);
    } catch (e) {
      fail(`${r}: listen failed (${errorText(e)})`);
    }
  }

  let exiting = false;
  const shutdown = (): void => {
    if (exiting) return;
    exiting = true;
    void (async () => {
      try {
        await server.close();
        await daemon.unixctl.close();
      } finally {
        process.exit(0);
      }
    })();
  };
  const ctl = daemon.unixctl;
  ctl.register('exit', '', 0, 0, () => {
    // Let the (empty) reply go out first.
    setTimeout(shutdown, 20);
  });
  ctl.register('ovsdb-server/compact', '', 0, 1, (a) => {
    const name = a[0];
    if (name !== undefined && name.startsWith('_')) throw new UnixctlError('cannot compact built-in databases');
    const targets = server.databases().filter((d) => d.file && (name === undefined || d.name === name));
    if (targets.length === 0) throw new UnixctlError('no database by that name');
    const errors = targets.flatMap((d) => server.compact(d.name));
    if (errors.length > 0) throw new UnixctlError(errors.join('\n'));
  });
  ctl.register('ovsdb-server/list-dbs', '', 0, 0, () =>
    server.databases().map((d) => d.name).sort().map((n) => `${n}\n`).join(''),
  );
  ctl.register('ovsdb-server/list-remotes', '', 0, 0, () => server.remotes().map((r) => `${r}\n`).join(''));
  ctl.register('ovsdb-server/add-remote', 'REMOTE', 1, 1, async (a) => {
    const r = a[0]!;
    if (r.startsWith('db:')) throw new UnixctlError(`${r}: remotes read from the database are not supported`);
    try {
      await server.addRemote(r);
    } catch (e) {
      throw new UnixctlError(`${r}: ${errorText(e)}`);
    }
  });
  ctl.register('ovsdb-server/remove-remote', 'REMOTE', 1, 1, async (a) => {
    if (!(await server.removeRemote(a[0]!))) throw new UnixctlError('no such remote');
  });
  ctl.register('memory/show', '', 0, 0, () => {
    const u = server.memoryUsage();
    return Object.keys(u).sort().map((k) => `${k}:${u[k]}`).join(' ');
  });
  ctl.register('ovsdb-server/reconnect', '', 0, 0, () => undefined);

  // The compaction policy also fires on time alone (a day after the last one).
  setInterval(() => server.autoCompact(), 60_000).unref();
  log.info(`${PROGRAM} (tsw) ${version()} serving ${server.databases().filter((d) => d.name !== SERVER_DB_NAME).map((d) => d.name).join(', ')}`);
  daemon.complete();
}

export function main(argv: string[]): void {
  setProgramName(PROGRAM);
  if (argv[0] === 'create') {
    create(argv.slice(1));
    return;
  }
  serve(argv).catch((e: unknown) => fail(errorText(e)));
}

// `node --import tsx src/db/main.ts ARGS` (tests, development) runs it directly.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}

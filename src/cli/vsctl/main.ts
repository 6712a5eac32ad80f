// tsw-vsctl: ovs-vsctl for tsw. Parses the command line, connects to the
// database, runs every command inside one transaction (re-running them all
// when the server reports a concurrent change), prints their output and,
// unless --no-wait, waits for the switch to apply the new configuration.
import { readFileSync } from 'node:fs';
import type { DatabaseSchema } from '../../db/index.js';
import { parseSchema } from '../../db/index.js';
import { Idl } from '../../db/index.js';
import type { IdlRow, TxnResult } from '../../db/index.js';
import { logdir, rundir } from '../../lib/dirs.js';
import type { Command, GlobalOptions } from './cmdline.js';
import { COMMANDS, GetoptError, OptionAction, defaultOptions, escapeArgs, parseCommands, parseGlobalOptions } from './cmdline.js';
import type { CommandContext } from './context.js';
import { DbContext, VsctlExit } from './context.js';
import { postCreate, preDbCommand, runDbCommand } from './dbcmds.js';
import { usageText } from './help.js';
import { TablePrinter } from './output.js';
import { SymbolTable, TxnError, VsctlError, serializeJson } from './values.js';
import { runVsctlCommand } from './vscmds.js';
import { VsctlState } from './bridge-tree.js';

const PROGRAM = 'tsw-vsctl';
const OVS_VERSION = '3.1.0';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** Console log lines in OVS's default format; the sequence number counts every enabled message. */
class ConsoleLog {
  private seq = 0;

  /** ovs-vsctl logs "Called as ..." at INFO (enabled for syslog) when it may write. */
  countCalledAs(): void {
    this.seq++;
  }

  warn(module: string, msg: string): void {
    this.seq++;
    const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    process.stderr.write(`${ts}|${String(this.seq).padStart(5, '0')}|${module}|WARN|${msg}\n`);
  }
}

class Fatal extends Error {
  constructor(message: string) {
    super(message);
  }
}

function loadLocalSchema(): DatabaseSchema | null {
  const candidates = [new URL('../../../schemas/vswitch.ovsschema', import.meta.url), '/usr/share/openvswitch/vswitch.ovsschema'];
  for (const c of candidates) {
    try {
      return parseSchema(JSON.parse(readFileSync(c, 'utf8')));
    } catch {
      // try the next one
    }
  }
  return null;
}

function connectionError(db: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = /\b(E[A-Z_]+)\b/.exec(msg)?.[1];
  if (code && STRERROR[code]) return `${db}: database connection failed (${STRERROR[code]})`;
  if (/unknown stream type|missing socket path|bad port|missing host/.test(msg)) {
    return `${db}: database connection failed (Address family not supported by protocol)`;
  }
  const m = /database connection failed \((.*)\)$/.exec(msg);
  return `${db}: database connection failed (${m ? m[1] : msg})`;
}

function printCommands(): void {
  for (const c of COMMANDS) {
    const opts = c.options ? c.options.split(',').map((o) => `[${o}] `).join('') : '';
    process.stdout.write(`${opts},${c.name},\n`);
  }
}

interface RunResult {
  done: boolean;
  status?: TxnResult['status'];
  nextCfg?: number;
  newIfaces?: string[];
  inserted?: Map<string, string>;
}

const consoleLog = new ConsoleLog();

class Vsctl {
  readonly log = consoleLog;
  private idl: Idl | null = null;

  constructor(
    readonly argv: string[],
    readonly opts: GlobalOptions,
    readonly commands: Command[],
    readonly localSchema: DatabaseSchema | null,
  ) {}

  private warn = (msg: string): void => this.log.warn('vsctl', msg);

  async run(): Promise<number> {
    const db = this.opts.db ?? `unix:${rundir()}/db.sock`;
    if (this.commands.some((c) => c.syntax.mode === 'RW')) this.log.countCalledAs();
    if (this.opts.timeout) this.armTimeout(this.opts.timeout);
    if (this.localSchema) this.prerequisites(this.localSchema);

    const idl = new Idl({
      remote: db,
      reconnect: this.opts.retry,
      ssl: { key: this.opts.ssl.key, cert: this.opts.ssl.cert, ca: this.opts.ssl.ca },
    });
    this.idl = idl;
    try {
      await idl.connect();
    } catch (e) {
      throw new Fatal(connectionError(db, e));
    }
    if (!this.localSchema) this.prerequisites(idl.schema);

    const args = escapeArgs(this.argv);
    for (;;) {
      const seqno = idl.seqno;
      const r = await this.doVsctl(idl, args);
      if (r.done) {
        if (this.opts.waitForReload && r.status === 'success') await this.waitForReload(idl, r);
        return 0;
      }
      if (idl.seqno === seqno) await new Promise<void>((resolve) => idl.once('change', () => resolve()));
    }
  }

  close(): void {
    this.idl?.close();
  }

  private armTimeout(secs: number): void {
    const t = setTimeout(() => {
      this.log.warn('fatal_signal', 'terminating with signal 14 (Alarm clock)');
      process.kill(process.pid, 'SIGALRM');
      setTimeout(() => process.exit(142), 100);
    }, secs * 1000);
    t.unref();
  }

  private prerequisites(schema: DatabaseSchema): void {
    for (const c of this.commands) {
      const warning = preDbCommand(schema, c.syntax.name, c.argv, c.options);
      if (warning) this.log.warn('db_ctl_base', warning);
    }
  }

  private async doVsctl(idl: Idl, args: string): Promise<RunResult> {
    const txn = idl.txn();
    if (this.opts.dryRun) txn.setDryRun?.();
    txn.comment(`${PROGRAM}: ${args}`);
    const symtab = new SymbolTable();
    const db = new DbContext(idl, txn, symtab);
    let ovs: IdlRow | undefined = db.rows('Open_vSwitch')[0];
    if (!ovs) ovs = db.insert('Open_vSwitch');
    if (this.opts.waitForReload) txn.increment(ovs, 'next_cfg');
    const st = new VsctlState(db, ovs, this.warn);

    const outputs: CommandContext[] = [];
    for (let i = 0; i < this.commands.length; i++) {
      const cmd = this.commands[i];
      const ctx: CommandContext = {
        db,
        cmd,
        argv: cmd.argv,
        options: cmd.options,
        output: '',
        table: null,
        lastCommand: i === this.commands.length - 1,
        tryAgain: false,
        invalidateCache: () => st.invalidate(),
      };
      st.verifiedPorts = false;
      const name = cmd.syntax.name;
      if (!runDbCommand(ctx, name, (m) => this.log.warn('db_ctl_base', m)) && !runVsctlCommand(st, ctx, name)) {
        throw new VsctlError(`'${name}' command is not supported by ${PROGRAM}`);
      }
      outputs.push(ctx);
      if (ctx.tryAgain) return { done: false };
    }

    for (const [name, sym] of symtab.symbols) {
      if (!sym.created) {
        throw new VsctlError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
      }
      if (!sym.strongRef) {
        this.warn(
          sym.weakRef
            ? `row id "${name}" was created but only a weak reference to it was inserted, so it will not actually appear in the database`
            : `row id "${name}" was created but no reference to it was inserted, so it will not actually appear in the database`,
        );
      }
    }

    const result = await txn.commit();
    let inserted: Map<string, string> | null = null;
    if (result.status === 'success') inserted = result.insertedUuids;
    if (result.status === 'success' || result.status === 'unchanged') {
      for (const ctx of outputs) if (ctx.cmd.syntax.name === 'create') ctx.output = postCreate(ctx.output, inserted);
    }
    switch (result.status) {
      case 'try_again':
        return { done: false };
      case 'error': {
        const err: { [k: string]: string } = { error: result.error };
        if (result.details !== undefined) err.details = result.details;
        throw new TxnError(serializeJson(err));
      }
      case 'not_locked':
        throw new VsctlError('database not locked');
      default:
        break;
    }

    const printer = new TablePrinter(this.opts.style);
    let out = '';
    for (const ctx of outputs) {
      if (ctx.table) out += printer.format(ctx.table);
      else if (this.opts.oneline) {
        out += ctx.output.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n') + '\n';
      } else out += ctx.output;
    }
    process.stdout.write(out);
    return {
      done: true,
      status: result.status,
      nextCfg: result.status === 'success' ? result.incrementedValue : undefined,
      newIfaces: st.newIfaces,
      inserted: inserted ?? undefined,
    };
  }

  private async waitForReload(idl: Idl, r: RunResult): Promise<void> {
    const next = r.nextCfg ?? 0;
    await idl.waitFor(() => {
      for (const ovs of idl.table('Open_vSwitch').values()) {
        const cur = ovs.get('cur_cfg').keys[0];
        if (typeof cur === 'number' && cur >= next) return true;
      }
      return false;
    });
    let printed = false;
    for (const provisional of r.newIfaces ?? []) {
      const uuid = r.inserted?.get(provisional);
      if (!uuid) continue;
      const iface = idl.row('Interface', uuid);
      if (!iface) continue;
      const ofport = iface.get('ofport').keys;
      if (ofport.length && ofport[0] !== -1) continue;
      const name = iface.get('name').keys[0] as string;
      const error = iface.get('error').keys[0] as string | undefined;
      process.stderr.write(
        error
          ? `${PROGRAM}: Error detected while setting up '${name}': ${error}.  See ovs-vswitchd log for details.\n`
          : `${PROGRAM}: Error detected while setting up '${name}'.  See ovs-vswitchd log for details.\n`,
      );
      printed = true;
    }
    if (printed) process.stderr.write(`${PROGRAM}: The default log directory is "${logdir()}".\n`);
  }
}

function runAction(action: string, localSchema: DatabaseSchema | null): void {
  if (action === 'help') {
    process.stdout.write(usageText(PROGRAM, `unix:${rundir()}/db.sock`, logdir()));
    return;
  }
  if (action === 'commands') printCommands();
  if (action === 'commands' || action === 'options') {
    process.stdout.write('--db=ARG\n--no-syslog\n--no-wait\n--dry-run\n--oneline\n--timeout=ARG\n-t ARG\n--retry\n--help\n-h\n');
  }
  process.stdout.write(`${PROGRAM} (Open vSwitch) ${OVS_VERSION}\nDB Schema ${localSchema?.version ?? '8.3.1'}\n`);
}

async function run(argv: string[]): Promise<{ code: number; vsctl: Vsctl | null }> {
  const opts = defaultOptions();
  const local = new Map<string, string | null>();
  let first: number;
  try {
    first = parseGlobalOptions(argv, opts, local);
  } catch (e) {
    if (e instanceof OptionAction) {
      runAction(e.message, loadLocalSchema());
      return { code: 0, vsctl: null };
    }
    throw e;
  }
  const commands = parseCommands(argv.slice(first), local);
  const vsctl = new Vsctl(argv, opts, commands, loadLocalSchema());
  try {
    return { code: await vsctl.run(), vsctl };
  } finally {
    vsctl.close();
  }
}

export function main(argv: string[]): void {
  run(argv).then(
    ({ code }) => process.exit(code),
    (e: unknown) => {
      if (e instanceof VsctlExit) process.exit(e.status);
      if (e instanceof TxnError) consoleLog.warn('ovsdb_idl', e.message);
      if (e instanceof GetoptError || e instanceof VsctlError || e instanceof Fatal) {
        process.stderr.write(`${PROGRAM}: ${e.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`${PROGRAM}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

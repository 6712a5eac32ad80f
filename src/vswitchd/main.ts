// tsw-vswitchd: the switch daemon, command-line compatible with the common
// ovs-vswitchd options. It holds the "ovs_vswitchd" lock on the database,
// reconfigures its bridges whenever the configuration changes, and writes
// status back, so `ovs-vsctl` (which waits for cur_cfg) returns.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Idl } from '../db/index.js';
import {
  UsageError, daemonUsage, parseDaemonArgs, rundir, startDaemon,
} from '../lib/daemon.js';
import { packageRoot } from '../lib/pidfile.js';
import { setProgramName } from '../lib/program.js';
import { vlogModule } from '../lib/vlog.js';
import type { DummyLevel } from '../netdev/index.js';
import { NetdevRegistry, registerDummyClasses, registerDummyCommands, registerLinuxClasses, patchNetdevClass, TUNNEL_CLASSES } from '../netdev/index.js';
import { Switch, switchTableSelection } from './bridge.js';
import { registerBridgeCommands } from './commands.js';
import { DatapathPipeline } from '../xlate/index.js';
import { Coverage, walkOptions } from '../lib/index.js';

const PROGRAM = 'tsw-vswitchd';
const log = vlogModule('vswitchd');
/** How often interface counters are written back, as in OVS. */
const STATS_INTERVAL_MS = 5000;
/** How often controller connection state (is_connected, role) is checked for changes. */
const CONTROLLER_STATUS_INTERVAL_MS = 1000;
/**
 * Port types a full tsw will have (OVS's list less "patch"): the dummy class
 * stands in for all of them under --enable-dummy=override.
 */
const OVERRIDABLE_TYPES = ['afxdp', 'afxdp-nonpmd', 'bareudp', 'erspan', 'geneve', 'gre', 'gtpu', 'internal',
  'ip6erspan', 'ip6gre', 'lisp', 'stt', 'system', 'tap', 'vxlan'];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function usage(): string {
  return `${PROGRAM}: Open vSwitch daemon (tsw)
usage: ${PROGRAM} [OPTIONS] [DATABASE]
where DATABASE is a socket on which ovsdb-server is listening
      (default: "unix:${rundir()}/db.sock").

Switch options:
  --enable-dummy[=override|system]
                          register the dummy port type (for tests); with
                          "override" it serves every port type
  --disable-system        accepted for compatibility (no kernel datapath yet)

PKI configuration (for an ssl: DATABASE):
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
${daemonUsage(PROGRAM)}`;
}

interface SwitchArgs {
  remote: string;
  dummy: DummyLevel | null;
  privateKey?: string;
  certificate?: string;
  caCert?: string;
}

/** Parses the options that are ours (the daemon ones were taken out already). */
export function parseSwitchArgs(rest: string[]): SwitchArgs {
  const out: SwitchArgs = { remote: `unix:${rundir()}/db.sock`, dummy: null };
  const positional: string[] = [];
  const short: Record<string, string> = { '-p': '--private-key', '-c': '--certificate', '-C': '--ca-cert' };
  walkOptions(rest, short, {
    positional: (arg) => positional.push(arg),
    option: (name, value, required, arg) => {
    switch (name) {
      case '--enable-dummy':
        if (value === null || value === '') out.dummy = 'none';
        else if (value === 'override' || value === 'system') out.dummy = value;
        else throw new UsageError(`--enable-dummy: unknown level "${value}" (use override or system)`);
        break;
      case '--private-key': out.privateKey = required(); break;
      case '--certificate': out.certificate = required(); break;
      case '--ca-cert': case '--bootstrap-ca-cert': out.caCert = required(); break;
      case '--peer-ca-cert': required(); break;
      // Accepted for compatibility with ovs-ctl and OVS test scripts; nothing to do in tsw (yet).
      case '--disable-system': case '--disable-system-route': case '--mlockall': case '--no-self-confinement':
      case '--dpdk':
        break;
      case '--user':
        log.warn(`--user=${required()}: changing user is not supported; running as the current user`);
        break;
      default:
        throw new UsageError(`unrecognized option '${arg}'`);
    }
    },
  });
  if (positional.length > 1) throw new UsageError('at most one non-option argument accepted; use --help for usage');
  if (positional.length === 1) out.remote = positional[0]!;
  return out;
}

function fail(message: string): never {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
  process.exit(1);
}

async function run(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseDaemonArgs>;
  let args: SwitchArgs;
  try {
    parsed = parseDaemonArgs(argv, PROGRAM);
    args = parseSwitchArgs(parsed.rest);
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
  const remote = args.remote.startsWith('unix:') ? `unix:${resolve(cwd, args.remote.slice(5))}` : args.remote;
  const daemon = await startDaemon(options, { program: PROGRAM, version: version() });
  const ctl = daemon.unixctl;

  const registry = new NetdevRegistry();
  const coverage = new Coverage();
  const datapathTypes = ['netdev', 'system'];
  // Real ports first (AF_PACKET, tap); --enable-dummy=override replaces them all with dummies.
  registerLinuxClasses(registry);
  registry.register(patchNetdevClass);
  for (const c of TUNNEL_CLASSES) registry.register(c);
  if (args.dummy !== null) {
    registerDummyClasses(registry, args.dummy, OVERRIDABLE_TYPES);
    datapathTypes.push('dummy');
  }

  const idl = new Idl({
    remote,
    tables: switchTableSelection(),
    reconnect: true,
    lock: 'ovs_vswitchd',
    ssl: args.privateKey || args.certificate || args.caCert
      ? { key: args.privateKey && resolve(cwd, args.privateKey), cert: args.certificate && resolve(cwd, args.certificate),
        ca: args.caCert && resolve(cwd, args.caCert) }
      : undefined,
    log: (m) => log.info(m),
  });
  // One PMD worker per core but one (the main thread's), as OVS's default; other_config:pmd-cpu-mask changes it.
  const pipeline = new DatapathPipeline({ dummy: args.dummy === 'override', pmdWorkers: Math.max(1, availableParallelism() - 1), coverage });
  const sw = new Switch({ idl, registry, coverage, datapathTypes, rundir: rundir(), version: version(), pipeline });

  // The main loop: every database change (or gaining the lock) may mean new configuration.
  let reconfiguring = false;
  let again = false;
  const kick = (): void => {
    if (reconfiguring) {
      again = true;
      return;
    }
    reconfiguring = true;
    void (async () => {
      do {
        again = false;
        try {
          await sw.reconfigure();
        } catch (e) {
          log.err(`reconfiguration failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        }
      } while (again);
      reconfiguring = false;
    })();
  };
  idl.on('change', kick);
  idl.on('lock', (locked) => {
    if (locked) log.info('acquired database lock "ovs_vswitchd"');
    // Losing the lock with the session is a disconnect; losing it on a live session means another switch took it.
    else if (idl.isConnected) log.warn('another ovs-vswitchd process is running, disabling this process until it goes away');
    kick();
  });
  idl.on('connected', () => {
    log.info(`${remote}: connected`);
    void sw.reconfigure(true).then(() => undefined, () => undefined);
  });
  setInterval(() => void sw.refreshStats().catch(() => undefined), STATS_INTERVAL_MS).unref();
  setInterval(() => void sw.refreshControllers().catch(() => undefined), CONTROLLER_STATUS_INTERVAL_MS).unref();
  registerBridgeCommands(ctl, { ofprotos: () => sw.ofprotos(), registry, datapath: pipeline });

  if (args.dummy !== null) registerDummyCommands(ctl, registry, () => sw.refreshStatus());

  let exiting = false;
  const shutdown = (): void => {
    if (exiting) return;
    exiting = true;
    void (async () => {
      try {
        idl.close();
        // The PMD workers stop before the devices they poll are closed.
        pipeline.close();
        sw.destroyAll();
        await ctl.close();
      } finally {
        process.exit(0);
      }
    })();
  };
  ctl.register('exit', '[--cleanup]', 0, 1, () => {
    // Let the (empty) reply go out first.
    setTimeout(shutdown, 20);
  });
  ctl.register('memory/show', '', 0, 0, () => {
    let cells = 0;
    for (const [table, cols] of Object.entries(switchTableSelection())) {
      if (!idl.isConnected) break;
      cells += idl.table(table).size * cols.length;
    }
    const u: Record<string, number> = { bridges: sw.bridgeNames().length, 'idl-cells-Open_vSwitch': cells, ports: sw.ifaceCount() };
    return Object.keys(u).sort().map((k) => `${k}:${u[k]}`).join(' ');
  });
  ctl.register('coverage/show', '', 0, 0, () => coverage.show());

  idl.connect().catch(() => undefined);
  log.info(`${PROGRAM} (tsw) ${version()}: database ${remote}`);
  daemon.complete();
}

export function main(argv: string[]): void {
  setProgramName(PROGRAM);
  run(argv).catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
}

// `node --import tsx src/vswitchd/main.ts ARGS` (tests, development) runs it directly.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}

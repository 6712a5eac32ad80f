// Daemon plumbing shared by tsw-dbserver, tsw-vswitchd and the CLI tools.
export {
  JsonRpcConnection, JsonRpcError, JsonStreamParser, messageFromJson, serializeMessage, DEFAULT_MAX_MESSAGE_BYTES,
} from './jsonrpc.js';
export type {
  JsonRpcMessage, RequestMessage, NotifyMessage, ReplyMessage, ErrorMessage, JsonRpcErrorKind,
  JsonRpcConnectionOptions, JsonRpcEvents,
} from './jsonrpc.js';
export {
  connectStream, listenStream, parseActiveTarget, parsePassiveTarget, StreamTargetError, OVSDB_PORT,
} from './stream.js';
export type { StreamTarget, PassiveTarget, TlsFiles, StreamListener, ConnectOptions, ListenOptions } from './stream.js';
export { UnixctlServer, UnixctlError, unixctlCall, resolveAppctlTarget, defaultUnixctlPath } from './unixctl.js';
export type { UnixctlHandler, UnixctlServerOptions } from './unixctl.js';
export { createPidfile, readPidfile, defaultPidfilePath, PidfileError, nativeAddon, packageRoot } from './pidfile.js';
export type { Pidfile } from './pidfile.js';
export {
  Level, Destination, VlogModule, VlogRateLimit, vlogModule, vlogSetLevels, vlogSetLevelsFromString, vlogGetLevels,
  vlogGetPatterns, vlogSetLogFile, vlogCloseLogFile, vlogReopenLogFile, vlogLogFileName, vlogRegisterCommands,
  levelFromName,
} from './vlog.js';
export type { LevelName, DestinationName, CommandRegistry } from './vlog.js';
export {
  parseDaemonArgs, startDaemon, applyVerbose, daemonUsage, UsageError, DETACHED_ENV,
} from './daemon.js';
export type { DaemonOptions, Daemon, DaemonStartOptions } from './daemon.js';
export { rundir, logdir, dbdir, sysconfdir, pkgdatadir, bindir, absFileName } from './dirs.js';
export { programName, setProgramName } from './program.js';
export { addExitHook, installFatalSignalHandlers } from './fatal-signal.js';
export { Coverage } from './coverage.js';
export { walkOptions, type OptionVisitor } from './options.js';

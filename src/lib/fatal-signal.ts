// Cleanup on exit, like OVS's fatal-signal.c: pidfiles and socket files are
// removed when the process exits normally or dies of SIGTERM/SIGINT/SIGHUP.
const hooks = new Set<() => void>();
let exitListenerInstalled = false;
let signalsInstalled = false;

function runHooks(): void {
  for (const hook of [...hooks]) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // Keep going: every file deserves its chance to be removed.
    }
  }
}

/** Runs `hook` once at process exit. Returns a function that cancels it. */
export function addExitHook(hook: () => void): () => void {
  if (!exitListenerInstalled) {
    exitListenerInstalled = true;
    process.on('exit', runHooks);
  }
  hooks.add(hook);
  return () => { hooks.delete(hook); };
}

/**
 * Makes SIGTERM, SIGINT and SIGHUP run the exit hooks and then die of the same
 * signal (so the parent still sees "killed by SIGTERM"). Daemons call this.
 */
export function installFatalSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const handler = (): void => {
      runHooks();
      process.off(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

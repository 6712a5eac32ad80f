// getopt_long-style walking of a daemon's own options (after the common
// daemon flags were taken out): `--name=value`, `--name value`, `-xvalue`,
// `-x value`, positional arguments, and `--` ending the options.
import { UsageError } from './daemon.js';

export interface OptionVisitor {
  /** A non-option argument. */
  positional(arg: string): void;
  /**
   * An option, by its long name after short-name mapping. `value` is the
   * inline value (`--a=b`, `-xb`) or null; `required()` returns it or takes
   * the next argument, failing like getopt when there is none. `arg` is the
   * argument as given, for error messages.
   */
  option(name: string, value: string | null, required: () => string, arg: string): void;
}

export function walkOptions(args: readonly string[], short: Readonly<Record<string, string>>, visit: OptionVisitor): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      for (const a of args.slice(i + 1)) visit.positional(a);
      return;
    }
    if (!arg.startsWith('-') || arg === '-') {
      visit.positional(arg);
      continue;
    }
    let name = arg;
    let value: string | null = null;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) {
        name = arg.slice(0, eq);
        value = arg.slice(eq + 1);
      }
    } else if (arg.length > 2 && short[arg.slice(0, 2)]) {
      name = arg.slice(0, 2);
      value = arg.slice(2);
    }
    name = short[name] ?? name;
    const required = (): string => {
      if (value !== null) return value;
      if (i + 1 >= args.length) throw new UsageError(`option '${name}' requires an argument`);
      return args[++i]!;
    };
    visit.option(name, value, required, arg);
  }
}

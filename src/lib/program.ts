// The running program's name ("tsw-dbserver", "ovsdb-server"), used for the
// default pidfile, log file and control socket names, like OVS's program_name.
import { basename } from 'node:path';

let name: string | null = null;

export function setProgramName(program: string): void {
  name = program;
}

export function programName(): string {
  if (name === null) {
    const script = process.argv[1] ?? 'node';
    name = basename(script).replace(/\.(m?[jt]s)$/, '');
  }
  return name;
}

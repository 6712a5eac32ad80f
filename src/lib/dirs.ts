// Standard OVS directories, overridable through the same OVS_* environment
// variables the real tools honor. An empty variable means "use the default",
// as in OVS's lib/dirs.c.
import { isAbsolute, resolve } from 'node:path';

function fromEnv(name: string, fallback: () => string): string {
  const value = process.env[name];
  return value !== undefined && value !== '' ? value : fallback();
}

export function sysconfdir(): string {
  return fromEnv('OVS_SYSCONFDIR', () => '/etc');
}

export function rundir(): string {
  return fromEnv('OVS_RUNDIR', () => '/var/run/openvswitch');
}

export function logdir(): string {
  return fromEnv('OVS_LOGDIR', () => '/var/log/openvswitch');
}

export function dbdir(): string {
  return fromEnv('OVS_DBDIR', () => `${sysconfdir()}/openvswitch`);
}

export function pkgdatadir(): string {
  return fromEnv('OVS_PKGDATADIR', () => '/usr/share/openvswitch');
}

export function bindir(): string {
  return fromEnv('OVS_BINDIR', () => '/usr/bin');
}

/** Like OVS abs_file_name(): a relative name is taken relative to `dir`. */
export function absFileName(dir: string, name: string): string {
  return isAbsolute(name) ? name : resolve(dir, name);
}

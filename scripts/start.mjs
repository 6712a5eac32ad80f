// npm start: a tsw-dbserver on a fresh database under ./var, in the foreground.
import { mkdirSync, existsSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const rundir = resolve(root, 'var/run');
const dbdir = resolve(root, 'var/db');
mkdirSync(rundir, { recursive: true });
mkdirSync(dbdir, { recursive: true });
const db = resolve(dbdir, 'conf.db');
const bin = (name) => resolve(root, 'bin', name);
if (!existsSync(db)) {
  execFileSync(bin('tsw-dbserver'), ['create', db, resolve(root, 'schemas/vswitch.ovsschema')], { stdio: 'inherit' });
}
const sock = resolve(rundir, 'db.sock');
const server = spawn(bin('tsw-dbserver'), [db, `--remote=punix:${sock}`, `--pidfile=${resolve(rundir, 'tsw-dbserver.pid')}`], {
  stdio: 'inherit',
  env: { ...process.env, OVS_RUNDIR: rundir },
});
setTimeout(() => {
  console.log(`tsw-dbserver is serving ${db}
  socket:  ${sock}
  try:     bin/tsw-vsctl --db=unix:${sock} --no-wait init
           bin/tsw-vsctl --db=unix:${sock} --no-wait add-br br0
           ovs-vsctl --db=unix:${sock} --no-wait show
           OVS_RUNDIR=${rundir} ovs-appctl -t tsw-dbserver list-commands
  (with OVS_RUNDIR=${rundir} exported, leave out --db)
Ctrl-C stops it.`);
}, 300);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.kill('SIGTERM'));
server.on('exit', (code) => process.exit(code ?? 0));

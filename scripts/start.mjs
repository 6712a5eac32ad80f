// npm start: the appliance stack on a fresh database under ./var, in the
// foreground: tsw-dbserver, then tsw-vswitchd on it (real NICs as type system,
// internal and tap ports, patch ports, VXLAN/Geneve/GRE tunnels, and dummy ones).
import { mkdirSync, existsSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const rundir = resolve(root, 'var/run');
const dbdir = resolve(root, 'var/db');
const logdir = resolve(root, 'var/log');
for (const d of [rundir, dbdir, logdir]) mkdirSync(d, { recursive: true });
const db = resolve(dbdir, 'conf.db');
const bin = (name) => resolve(root, 'bin', name);
if (!existsSync(db)) {
  execFileSync(bin('tsw-dbserver'), ['create', db, resolve(root, 'schemas/vswitch.ovsschema')], { stdio: 'inherit' });
}
const env = { ...process.env, OVS_RUNDIR: rundir, OVS_LOGDIR: logdir };
const sock = resolve(rundir, 'db.sock');
const server = spawn(bin('tsw-dbserver'), [db, `--remote=punix:${sock}`, `--pidfile=${resolve(rundir, 'tsw-dbserver.pid')}`], {
  stdio: 'inherit', env,
});
let vswitchd = null;
setTimeout(() => {
  execFileSync(bin('tsw-vsctl'), [`--db=unix:${sock}`, '--no-wait', 'init'], { stdio: 'inherit', env });
  vswitchd = spawn(bin('tsw-vswitchd'), [`unix:${sock}`, `--pidfile=${resolve(rundir, 'tsw-vswitchd.pid')}`, '--enable-dummy'], {
    stdio: 'inherit', env,
  });
  vswitchd.on('exit', (code) => { if (code) console.error(`tsw-vswitchd exited with ${code}`); });
  console.log(`tsw is running on ${db}
  database: ${sock}
  try:      export OVS_RUNDIR=${rundir}
            ovs-vsctl add-br br0 -- add-port br0 p1 -- set Interface p1 type=dummy
            ovs-ofctl -O OpenFlow13 add-flow br0 in_port=1,actions=drop
            ovs-ofctl dump-flows br0          (or bin/tsw-ofctl, bin/tsw-vsctl)
            ovs-appctl -t tsw-vswitchd ofproto/trace br0 in_port=1
Ctrl-C stops it.`);
}, 500);
const stop = () => {
  vswitchd?.kill('SIGTERM');
  server.kill('SIGTERM');
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, stop);
server.on('exit', (code) => { vswitchd?.kill('SIGTERM'); process.exit(code ?? 0); });

// Installs the Debian packages the tests talk to (the real OVS tools are the
// judges of compatibility), when they are missing. Needs root and apt-get.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, unlinkSync } from 'node:fs';

const wanted = [
  ['ovs-vsctl', 'openvswitch-common'],
  ['ovsdb-server', 'openvswitch-switch'],
  ['/usr/lib/python3/dist-packages/ovs/db/idl.py', 'python3-openvswitch'],
  ['tshark', 'tshark'],
  ['/usr/bin/osken-manager', 'python3-os-ken'],
  ['openssl', 'openssl'],
  // The network-namespace scenarios: hosts ping and move TCP through the switch.
  ['/usr/bin/ping', 'iputils-ping'],
  ['/usr/bin/nc', 'netcat-openbsd'],
  ['/usr/sbin/ethtool', 'ethtool'],
  ['/usr/bin/iperf3', 'iperf3'],
  // bench/dataplane's 64-byte packet generator; `bridge` for the Linux-bridge VLAN scenario.
  ['/usr/sbin/trafgen', 'netsniff-ng'],
  ['/usr/sbin/bridge', 'iproute2'],
  ['/usr/sbin/sysctl', 'procps'],
  ['/usr/bin/python3', 'python3'],
];

function have(what) {
  if (what.startsWith('/')) return existsSync(what);
  return spawnSync('sh', ['-c', `command -v ${what}`]).status === 0;
}

const missing = [...new Set(wanted.filter(([what]) => !have(what)).map(([, pkg]) => pkg))];
if (missing.length === 0) process.exit(0);
if (process.getuid && process.getuid() !== 0) {
  console.error(`test-deps: missing Debian packages ${missing.join(' ')} and not root; install them first`);
  process.exit(1);
}
console.log(`test-deps: installing ${missing.join(' ')}`);
// Keep package scripts from starting the system's own OVS daemons.
const policy = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(policy);
if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
} finally {
  if (ownPolicy) unlinkSync(policy);
}

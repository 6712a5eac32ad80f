// The `system` port type (OVS's netdev-linux "system" class): an existing
// kernel interface, reached through an AF_PACKET socket with a TPACKET_V2
// receive ring. Opening a name the kernel does not have fails with ENODEV.
import type { PacketOpenOptions } from '../native/index.js';
import { packetOpen } from '../native/index.js';
import type { NetdevClass } from './netdev.js';
import type { NetdevRegistry } from './registry.js';
import { LinuxNetdev, toNetdevError } from './linkmon.js';
import { internalNetdevClass, tapNetdevClass } from './tap.js';

export class SystemNetdev extends LinuxNetdev {
  protected readonly countersReversed = false;

  constructor(name: string, type: string, options: PacketOpenOptions = {}) {
    let handle: number;
    try {
      handle = packetOpen(name, options);
    } catch (e) {
      throw toNetdevError(e);
    }
    super(name, type, handle, 'afpacket');
  }
}

/** `system` devices; `options` go to every socket it opens (ring size, fanout). */
export function systemNetdevClass(options: PacketOpenOptions = {}): NetdevClass {
  return {
    type: 'system',
    open: (name: string, type: string) => new SystemNetdev(name, type, options),
  };
}

/** Kernel-backed port types, the real counterparts of the dummy ones. */
export const LINUX_TYPES = ['system', 'internal', 'tap'] as const;

/**
 * Registers `system`, `internal` and `tap` into `registry` (as
 * registerDummyClasses does for the dummy types). Call it before
 * registerDummyClasses when dummy types should override these.
 */
export function registerLinuxClasses(registry: NetdevRegistry, options: PacketOpenOptions = {}): void {
  registry.register(systemNetdevClass(options));
  registry.register(internalNetdevClass);
  registry.register(tapNetdevClass);
}

// Tap-backed port types: `internal` (the datapath creates a tap named after
// the port; the bridge's local port is one, so `ip addr add` works on it) and
// `tap` (an existing tap, or a new one). The switch holds the tap's fd, so
// the kernel counts the other way round: what the kernel transmits into the
// tap is what the switch receives.
import { tapOpen } from '../native/index.js';
import type { NetdevClass } from './netdev.js';
import { LinuxNetdev, toNetdevError } from './linkmon.js';

export class TapNetdev extends LinuxNetdev {
  protected readonly countersReversed = true;

  constructor(name: string, type: string) {
    let handle: number;
    try {
      handle = tapOpen(name).handle;
    } catch (e) {
      throw toNetdevError(e);
    }
    super(name, type, handle, 'tap');
  }
}

export const internalNetdevClass: NetdevClass = {
  type: 'internal',
  open: (name: string, type: string) => new TapNetdev(name, type),
};

export const tapNetdevClass: NetdevClass = {
  type: 'tap',
  open: (name: string, type: string) => new TapNetdev(name, type),
};

// The netdev registry (OVS's netdev_register_provider / netdev_open): classes
// keyed by type name, and the devices open right now, keyed by name. Opening
// a name that is already open with the same type shares the device, as OVS's
// reference-counted netdevs do.
import { vlogModule } from '../lib/vlog.js';
import type { Netdev, NetdevClass } from './netdev.js';
import { NetdevError } from './netdev.js';

const log = vlogModule('netdev');

interface OpenDevice {
  netdev: Netdev;
  refs: number;
}

export class NetdevRegistry {
  private readonly classes = new Map<string, NetdevClass>();
  private readonly devices = new Map<string, OpenDevice>();

  /** Adds `cls` under `type` (its own type by default); a later registration of the same type replaces it. */
  register(cls: NetdevClass, type = cls.type): void {
    this.classes.set(type, cls);
  }

  unregister(type: string): boolean {
    return this.classes.delete(type);
  }

  lookup(type: string): NetdevClass | undefined {
    return this.classes.get(type);
  }

  /** Every registered type name, sorted (what Open_vSwitch.iface_types lists). */
  types(): string[] {
    return [...this.classes.keys()].sort();
  }

  /**
   * Opens device `name` of `type` ("" means "system"). Throws NetdevError:
   * EAFNOSUPPORT for a type nobody registered (OVS's errno for it), EEXIST
   * when the name is open with another type, or whatever the class throws.
   */
  open(name: string, type: string): Netdev {
    const wanted = type === '' ? 'system' : type;
    const existing = this.devices.get(name);
    if (existing) {
      if (existing.netdev.type !== wanted) {
        log.warn(`trying to create netdev ${name} of different type: ${wanted}, existing netdev is of type ${existing.netdev.type}`);
        throw new NetdevError('EEXIST');
      }
      existing.refs++;
      return existing.netdev;
    }
    const cls = this.classes.get(wanted);
    if (!cls) {
      log.warn(`could not create netdev ${name} of unknown type ${wanted}`);
      throw new NetdevError('EAFNOSUPPORT');
    }
    const netdev = cls.open(name, wanted);
    this.devices.set(name, { netdev, refs: 1 });
    return netdev;
  }

  /** Drops one reference; the device is closed when the last one goes. */
  close(netdev: Netdev): void {
    const d = this.devices.get(netdev.name);
    if (!d || d.netdev !== netdev) return;
    if (--d.refs > 0) return;
    this.devices.delete(netdev.name);
    netdev.close();
  }

  /** The open device called `name` (OVS's netdev_from_name). */
  byName(name: string): Netdev | undefined {
    return this.devices.get(name)?.netdev;
  }

  /** Every open device, in name order. */
  openDevices(): Netdev[] {
    return [...this.devices.keys()].sort().map((n) => this.devices.get(n)!.netdev);
  }
}

// The netdev layer's public face: the port-type interface, the registry of
// classes and open devices, and the dummy class used by tests.
export type { Netdev, NetdevClass, NetdevEvents, NetdevErrno, NetdevOptions, NetdevStats } from './netdev.js';
export { NetdevError, formatMac, parseMac } from './netdev.js';
export { NetdevRegistry } from './registry.js';
export type { DummyCommandRegistry, DummyLevel } from './dummy.js';
export {
  DummyNetdev, DUMMY_TYPES, NetdevCommandError, dummyNetdevClass, registerDummyClasses, registerDummyCommands,
} from './dummy.js';

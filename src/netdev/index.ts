// The netdev layer's public face: the port-type interface, the registry of
// classes and open devices, and the dummy class used by tests.
export type { Netdev, NetdevClass, NetdevEvents, NetdevErrno, NetdevOptions, NetdevStats } from './netdev.js';
export { NetdevError, formatMac, parseMac } from './netdev.js';
export { NetdevRegistry } from './registry.js';
export type { DummyCommandRegistry, DummyLevel } from './dummy.js';
export {
  DummyNetdev, DUMMY_TYPES, NetdevCommandError, dummyNetdevClass, registerDummyClasses, registerDummyCommands,
} from './dummy.js';
export type { BatchNetdev } from './linkmon.js';
export { LinkMonitor, LinuxNetdev, isBatchNetdev, linkMonitor, toNetdevError } from './linkmon.js';
export { LINUX_TYPES, SystemNetdev, registerLinuxClasses, systemNetdevClass } from './afpacket.js';
export { TapNetdev, internalNetdevClass, tapNetdevClass } from './tap.js';
export { PatchNetdev, patchNetdevClass } from './patch.js';
export { GENEVE_PORT, TUNNEL_CLASSES, TunnelNetdev, VXLAN_PORT, ip4Text, parseIp4, vxlanNetdevClass, type TunnelKind } from './tunnel.js';
export {
  flushHostRoutes, hostNeighbour, hostRoute, type HostRoute, addUserRoute, deleteUserRoute, listUserRoutes, type UserRoute, interfaceAddresses, interfaceAddressTexts,
  kernelRouteTable, type CachedRoute, ip6Text, ip6Value, setTunnelNeighbour, listTunnelNeighbours, flushTunnelNeighbours, tunnelNeighbourAging,
  setTunnelNeighbourAging, NEIGH_MAX_AGING_S, NEIGH_DEFAULT_AGING_MS, type TunnelNeighbour,
} from './host-route.js';

// A snoop connection (ovs-ofctl snoop): after its own HELLO exchange it gets
// a raw copy of every message to and from the controller it watches, in
// whatever version that controller speaks. What it sends us is read and
// dropped, as OVS drains its monitor connections.

import type * as net from 'node:net';
import { Vconn } from './conn-vconn.js';
import type { Monitor } from './rconn.js';

export class Snooper implements Monitor {
  private readonly vconn: Vconn;

  constructor(socket: net.Socket, allowedVersions: number, onClose: () => void) {
    this.vconn = new Vconn(socket, allowedVersions, {
      connected: () => undefined,
      message: () => undefined,
      closed: () => onClose(),
    }, 'snoop');
  }

  get isClosed(): boolean {
    return this.vconn.isClosed;
  }

  copy(bytes: Uint8Array): void {
    // Before its HELLO exchange a snooper gets nothing, as a vconn still connecting would not.
    if (this.vconn.isConnected) this.vconn.write(bytes);
  }

  close(): void {
    this.vconn.close();
  }
}

// OpenFlow port numbers of one bridge, handed out as OVS's ofproto does:
// a requested number when it is free, otherwise the next number after the
// last one given, in 1..32767, skipping numbers in use and numbers released
// within the last hour (so old flows do not suddenly match a new port),
// falling back to the least recently released one when nothing else is left.

/** OFPP_LOCAL: the bridge's own port, the one named after the bridge. */
export const OFPP_LOCAL = 65534;
/** OFPP_MAX: numbers from here up are reserved; requests must be below it. */
export const OFPP_MAX = 0xff00;
/** Automatic numbers stay in the lower half, leaving the upper half to controllers. */
const AUTO_LIMIT = 32768;
const REUSE_AFTER_MS = 60 * 60 * 1000;
const IN_USE = Number.POSITIVE_INFINITY;

/** A usable port number request (1 <= n < OFPP_MAX), or null. */
export function validOfport(n: number | undefined): number | null {
  return n !== undefined && Number.isInteger(n) && n >= 1 && n < OFPP_MAX ? n : null;
}

export class OfportAllocator {
  /** Port number -> when it was released (ms), or IN_USE. Unknown numbers were never used. */
  private readonly lastUsed = new Map<number, number>();
  private allocNo = 0;

  constructor(private readonly now: () => number = Date.now) {}

  isInUse(ofport: number): boolean {
    return this.lastUsed.get(ofport) === IN_USE;
  }

  /** A number for a new port: `request` if it is valid and free, else an automatic one; null when all are taken. */
  alloc(request: number | null): number | null {
    let port: number | null = request !== null && validOfport(request) !== null && !this.isInUse(request) ? request : null;
    if (port === null) {
      const end = this.allocNo;
      let lruPort = 0;
      let lru = IN_USE;
      for (;;) {
        if (++this.allocNo >= AUTO_LIMIT) this.allocNo = 1;
        const at = this.lastUsed.get(this.allocNo);
        if (at === undefined) {
          port = this.allocNo;
          break;
        }
        if (at < this.now() - REUSE_AFTER_MS) {
          port = this.allocNo;
          break;
        }
        if (at < lru) {
          lru = at;
          lruPort = this.allocNo;
        }
        if (this.allocNo === end || (end === 0 && this.allocNo === AUTO_LIMIT - 1)) {
          if (lruPort === 0) return null;
          port = lruPort;
          break;
        }
      }
    }
    this.lastUsed.set(port, IN_USE);
    return port;
  }

  /** Marks `ofport` free, remembering when, so it is not handed out again soon. */
  release(ofport: number): void {
    if (ofport >= 1 && ofport < OFPP_MAX) this.lastUsed.set(ofport, this.now());
  }
}

// Packet-in rate limiting for one controller connection (OVS's pinsched):
// a token bucket refilled at `rate` packets per second holding at most
// `burst` packets' worth; while tokens last, packet-ins go straight out;
// after that they wait in one queue per input port and leave round-robin as
// tokens come back. A full backlog (burst packets) drops from the longest
// queue. Connmgr keeps two schedulers per connection: table misses and the rest.

/** OVS's defaults when a limit is missing: 1000/s, burst a quarter of the rate (at least 1). */
function adjustLimits(rate: number, burst: number): { rate: number; burst: number } {
  const r = rate > 0 ? rate : 1000;
  const b = burst > 0 ? burst : Math.floor(r / 4);
  return { rate: r, burst: Math.max(1, b) };
}

export interface PinschedStats {
  /** Packets waiting now. */
  readonly queued: number;
  /** Sent at once, without waiting for the rate limit. */
  readonly bypassed: number;
  /** Held back by the rate limit. */
  readonly limited: number;
  /** Dropped because the backlog was full. */
  readonly dropped: number;
}

/** A token bucket counted in packets (fractions accumulate between withdrawals). */
class TokenBucket {
  private tokens = 0;
  private lastFill = -Infinity;

  constructor(public rate: number, public burst: number, private readonly now: () => number) {}

  /** Takes one packet's token if there is one. */
  withdraw(): boolean {
    if (this.tokens < 1) this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const t = this.now();
    if (t <= this.lastFill) return;
    // The bucket starts full: the first refill sees an infinite gap.
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.lastFill) * this.rate) / 1000);
    this.lastFill = t;
  }

  set(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    if (this.tokens > burst) this.tokens = burst;
  }

  /** Milliseconds until one token is available (0 = now). */
  msUntilToken(): number {
    if (this.tokens >= 1) return 0;
    this.refill();
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}

export class PacketInScheduler<T> {
  private readonly bucket: TokenBucket;
  /** One FIFO per input port; Map iteration order gives the round-robin. */
  private readonly queues = new Map<number, T[]>();
  /** Port whose queue is served next (undefined: the first one). */
  private nextPort: number | undefined;
  private nQueued = 0;
  private nNormal = 0;
  private nLimited = 0;
  private nDropped = 0;

  constructor(rate: number, burst: number, now: () => number = () => performance.now()) {
    const l = adjustLimits(rate, burst);
    this.bucket = new TokenBucket(l.rate, l.burst, now);
  }

  get limits(): { rate: number; burst: number } {
    return { rate: this.bucket.rate, burst: this.bucket.burst };
  }

  setLimits(rate: number, burst: number): void {
    const l = adjustLimits(rate, burst);
    this.bucket.set(l.rate, l.burst);
    while (this.nQueued > l.burst) this.dropOne();
  }

  /**
   * Offers one packet-in from `port`. Returns it when it may go out now;
   * otherwise it is queued (possibly pushing out an older one) and null is returned.
   */
  send(port: number, item: T): T | null {
    if (!this.nQueued && this.bucket.withdraw()) {
      this.nNormal++;
      return item;
    }
    if (this.nQueued >= this.bucket.burst) this.dropOne();
    let q = this.queues.get(port);
    if (!q) {
      q = [];
      this.queues.set(port, q);
    }
    q.push(item);
    this.nQueued++;
    this.nLimited++;
    return null;
  }

  /** Releases queued packet-ins as tokens allow, at most `max` (OVS: 50 per turn). */
  run(max = 50): T[] {
    const out: T[] = [];
    while (this.nQueued && out.length < max && this.bucket.withdraw()) out.push(this.dequeueNext());
    return out;
  }

  /** Milliseconds until run() can release something, or null when nothing waits. */
  nextWake(): number | null {
    return this.nQueued ? this.bucket.msUntilToken() : null;
  }

  stats(): PinschedStats {
    return { queued: this.nQueued, bypassed: this.nNormal, limited: this.nLimited, dropped: this.nDropped };
  }

  private dequeueNext(): T {
    const ports = [...this.queues.keys()];
    let i = this.nextPort === undefined ? 0 : ports.indexOf(this.nextPort);
    if (i < 0) i = 0;
    const port = ports[i]!;
    const q = this.queues.get(port)!;
    const item = q.shift()!;
    this.nQueued--;
    this.nextPort = ports[(i + 1) % ports.length];
    if (!q.length) {
      this.queues.delete(port);
      if (this.nextPort === port) this.nextPort = undefined;
    }
    return item;
  }

  /** Drops the oldest packet of the longest queue (ties: a random one of them, as OVS). */
  private dropOne(): void {
    let longest: number | undefined;
    let n = 0;
    let ties = 0;
    for (const [port, q] of this.queues) {
      if (q.length > n) {
        longest = port;
        n = q.length;
        ties = 1;
      } else if (q.length === n && Math.random() * ++ties < 1) {
        longest = port;
      }
    }
    if (longest === undefined) return;
    const q = this.queues.get(longest)!;
    q.shift();
    this.nQueued--;
    this.nDropped++;
    if (!q.length) {
      this.queues.delete(longest);
      if (this.nextPort === longest) this.nextPort = undefined;
    }
  }
}

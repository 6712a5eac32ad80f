// Event counters for `coverage/show`, in the shape of OVS's coverage module:
// a total per event and its average rate over the last 5 seconds, minute and
// hour, kept as 720 five-second buckets so counting stays O(1).
const SLOT_MS = 5000;
const SLOTS = 720;   // one hour

class Counter {
  total = 0;
  private readonly counts = new Float64Array(SLOTS);
  private readonly epochs = new Float64Array(SLOTS).fill(-1);

  constructor(readonly name: string) {}

  add(n: number, now: number): void {
    this.total += n;
    const epoch = Math.floor(now / SLOT_MS);
    const i = epoch % SLOTS;
    if (this.epochs[i] !== epoch) {
      this.epochs[i] = epoch;
      this.counts[i] = 0;
    }
    this.counts[i]! += n;
  }

  /** Events in the `n` complete-or-current slots ending now. */
  recent(n: number, now: number): number {
    const epoch = Math.floor(now / SLOT_MS);
    let sum = 0;
    for (let e = epoch - n + 1; e <= epoch; e++) {
      const i = ((e % SLOTS) + SLOTS) % SLOTS;
      if (this.epochs[i] === e) sum += this.counts[i]!;
    }
    return sum;
  }
}

export class Coverage {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Declares an event so that it is listed (as never hit) before it happens. */
  define(name: string): void {
    if (!this.counters.has(name)) this.counters.set(name, new Counter(name));
  }

  inc(name: string, n = 1): void {
    this.define(name);
    this.counters.get(name)!.add(n, this.now());
  }

  total(name: string): number {
    return this.counters.get(name)?.total ?? 0;
  }

  /** The text of `coverage/show`. */
  show(): string {
    const now = this.now();
    const hit = [...this.counters.values()].filter((c) => c.total > 0).sort((a, b) => a.name.localeCompare(b.name));
    const never = this.counters.size - hit.length;
    let hash = 0x811c9dc5;   // FNV-1a over the names of the events that were hit, like OVS's hash= tag
    for (const c of hit) for (const ch of c.name) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    let out = `Event coverage, avg rate over last: 5 seconds, last minute, last hour,  hash=${hash.toString(16).padStart(8, '0')}:\n`;
    for (const c of hit) {
      const s5 = (c.recent(1, now) / 5).toFixed(1);
      const m1 = (c.recent(12, now) / 60).toFixed(3);
      const h1 = (c.recent(SLOTS, now) / 3600).toFixed(4);
      out += `${c.name.padEnd(24)} ${s5.padStart(5)}/sec ${m1.padStart(9)}/sec ${h1.padStart(13)}/sec   total: ${c.total}\n`;
    }
    out += `${never} events never hit\n`;
    return out;
  }
}

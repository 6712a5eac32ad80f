// What the main thread and a PMD worker say to each other. Control goes to
// the worker on a MessagePort it drains between batches (it never returns to
// its event loop while it polls) and a waker interrupts its wait; answers to
// its synchronous requests (upcalls, re-translations) come on a second port
// it reads with receiveMessageOnPort after Atomics.wait on a shared flag.
// Everything here is structured-clone data: numbers, strings, typed arrays.

import type { DpAction } from './actions.js';
import type { DpifNetdevStats, DpPortStats } from './dpif-netdev.js';
import type { TunnelKind } from './tunnel-header.js';

/** A datapath port as a worker sees it: a native handle it may burst on, or none (frames go to the main thread). */
export interface PmdPortSpec {
  readonly no: number;
  readonly name: string;
  readonly type: string;
  readonly handle: number | null;
  /** Whether this worker receives from the port (each receiving port has one worker). */
  readonly rx: boolean;
  /** A tunnel port: the headers tnl_pop takes off for it. */
  readonly tunnel: TunnelKind | null;
}

/** An upcall's answer; `ref` names the owner's record of the flow (its rules), kept by the main thread. */
export interface PmdUpcallAnswer {
  readonly actions: readonly DpAction[];
  readonly mask: Uint32Array;
  readonly install: boolean;
  readonly ref: number;
}

export interface PmdWorkerData {
  readonly id: number;
  /**
   * [0]: the tables generation: a worker re-translates its flows before a batch when it moved (a barrier waits for nothing);
   * [1]: the learning generation (MAC tables): a worker re-translates its flows without stopping its packets when it moved.
   */
  readonly gen: Int32Array;
  /**
   * [0]: set to 1 by the main thread once a synchronous answer is on the reply port;
   * [1]: counts control messages posted, so the worker reads its control port only when it moved.
   */
  readonly signal: Int32Array;
  readonly control: import('node:worker_threads').MessagePort;
  readonly replies: import('node:worker_threads').MessagePort;
  readonly waker: number;
  readonly batchSize: number;
  readonly upcallTimeoutMs: number;
}

export type PmdControl =
  | { readonly t: 'ports'; readonly ports: readonly PmdPortSpec[] }
  | { readonly t: 'config'; readonly flowLimit: number; readonly maxIdleMs: number; readonly emcInsertInvProb: number }
  | { readonly t: 'flush' }
  | { readonly t: 'dump'; readonly id: number }
  | { readonly t: 'stop' };

/** A flow as a worker reports it for a dump; times are milliseconds ago (threads have different clocks). */
export interface PmdFlowDump {
  readonly key: Uint32Array;
  readonly mask: Uint32Array;
  readonly fullKey: Uint32Array;
  readonly actions: readonly DpAction[];
  readonly packets: number;
  readonly bytes: number;
  readonly usedAgo: number | null;
  readonly createdAgo: number;
  readonly tcpFlags: number;
}

/** [ref, packets, bytes, ms since last used or -1 for never]. */
export type PmdFlowCounters = readonly [number, number, number, number];

export type PmdEvent =
  | { readonly t: 'ready' }
  | { readonly t: 'upcall'; readonly seq: number; readonly inPort: number; readonly key: Uint32Array; readonly frame: Uint8Array }
  | { readonly t: 'retranslate'; readonly seq: number; readonly flows: ReadonlyArray<{ readonly ref: number; readonly key: Uint32Array }> }
  | { readonly t: 'userspace'; readonly cookie: number; readonly inPort: number; readonly frame: Uint8Array }
  | { readonly t: 'output'; readonly port: number; readonly frame: Uint8Array }
  | {
    readonly t: 'stats';
    /** Every live flow's counters, then the final counters of flows deleted since the last report. */
    readonly live: readonly PmdFlowCounters[];
    readonly gone: readonly PmdFlowCounters[];
    readonly pmd: DpifNetdevStats;
    readonly ports: ReadonlyArray<readonly [number, DpPortStats]>;
    readonly idleNs: number;
    /** Nanoseconds since the worker started. */
    readonly wallNs: number;
    readonly flows: number;
    readonly masks: number;
    readonly revalidation: { readonly runs: number; readonly deleted: number; readonly modified: number; readonly lastMs: number };
  }
  | { readonly t: 'dump'; readonly id: number; readonly flows: readonly PmdFlowDump[] }
  | { readonly t: 'port-error'; readonly port: number; readonly message: string };

export type PmdReply =
  | { readonly seq: number; readonly answer: PmdUpcallAnswer | null }
  | { readonly seq: number; readonly answers: ReadonlyArray<PmdUpcallAnswer | null> };

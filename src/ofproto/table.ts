// One OpenFlow table: its classifier of rules, its configuration from the
// Flow_Table row (name, flow_limit, overflow_policy) and its lookup counters.

import { Classifier } from './classifier.js';
import type { Rule } from './rule.js';
import { FLOW_STAGES, FLOW_WORDS } from '../flow/index.js';

/** OVS reports this as each table's max_entries when no flow_limit is set. */
export const DEFAULT_MAX_FLOWS = 1_000_000;

export interface TableConfig {
  name?: string;
  flowLimit?: number;
  /** overflow_policy=evict: a full table makes room by removing the least important flows. */
  evict?: boolean;
  /** Flow_Table groups: the fields that group flows for fair eviction (kept, reported). */
  groups?: string[];
}

export class OfTable {
  readonly cls = new Classifier<Rule>(FLOW_WORDS, FLOW_STAGES);
  name: string | null = null;
  maxFlows = DEFAULT_MAX_FLOWS;
  evict = false;
  evictionGroups: string[] = [];
  lookups = 0;
  matches = 0;
  /** OF1.4 TABLE_MOD config bits (eviction, vacancy events) as last set. */
  modConfig = 0;

  constructor(readonly id: number) {}

  get count(): number {
    return this.cls.size;
  }

  configure(c: TableConfig | undefined): void {
    this.name = c?.name ?? null;
    this.maxFlows = c?.flowLimit ?? DEFAULT_MAX_FLOWS;
    this.evict = c?.evict ?? false;
    this.evictionGroups = c?.groups ?? [];
  }

  /** Rules sorted as replies list them: priority high to low, older first (deterministic dumps). */
  sortedRules(filter: Iterable<Rule> = this.cls): Rule[] {
    return [...filter].sort((a, b) => b.priority - a.priority || a.created - b.created);
  }

  /**
   * The rule to evict when the table is full: the least important, and among
   * those the one closest to expiring (OVS's eviction order), never one
   * without timeouts unless it is all there is at the lowest importance.
   */
  evictionVictim(): Rule | null {
    let victim: Rule | null = null;
    let victimKey = Infinity;
    let victimImportance = Infinity;
    for (const r of this.cls) {
      const exp = r.expiry();
      const key = exp ? exp.at : Infinity;
      if (r.importance < victimImportance || (r.importance === victimImportance && key < victimKey)) {
        victim = r;
        victimKey = key;
        victimImportance = r.importance;
      }
    }
    return victim && (victim.idleTimeout || victim.hardTimeout) ? victim : null;
  }
}

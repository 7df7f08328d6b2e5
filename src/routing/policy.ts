/**
 * The routing policy from config: which side of the pool (this machine's workers or the LAN's) a task of a given
 * priority prefers, and whether it may run on the other side when the preferred one has no workers at all.
 */
import { Section, int, list } from '../config-validate.js';
import { ConfigError } from '../errors.js';

export type Location = 'local' | 'remote';

export interface RoutingRule {
  readonly min_priority: number;
  readonly max_priority: number;
  readonly prefer: Location;
  /** True: when no worker of the preferred side exists, any worker may run the task; false: it waits for one. */
  readonly fallback: boolean;
}

export interface RoutingConfig {
  /** Route by each worker group's measured run time (false: the longest-idle capable worker takes the next task). */
  readonly speed_aware: boolean;
  /** The first rule whose range holds a task's priority applies; a task no rule matches may run anywhere. */
  readonly rules: readonly RoutingRule[];
}

export const ROUTING_DEFAULTS = { speed_aware: true, rules: [] as unknown[] };
const RULE_DEFAULTS = { min_priority: 1, max_priority: 10, prefer: undefined, fallback: true };

export function readRouting(section: Section<typeof ROUTING_DEFAULTS>): RoutingConfig {
  return {
    speed_aware: section.bool('speed_aware'),
    rules: section.read('rules', (value, key) => list(value, key).map((entry, i) => readRule(entry, `${key}[${i}]`))),
  };
}

function readRule(entry: unknown, at: string): RoutingRule {
  const r = new Section(entry, at, RULE_DEFAULTS);
  const min_priority = r.int('min_priority', { min: 1, max: 10 });
  const max_priority = r.read('max_priority', (v, k) => int(v, k, { min: 1, max: 10 }));
  if (max_priority < min_priority) throw new ConfigError(`must be >= min_priority (${min_priority}), got ${max_priority}`, r.keyOf('max_priority'));
  return { min_priority, max_priority, prefer: r.oneOf('prefer', ['local', 'remote'] as const), fallback: r.bool('fallback') };
}

/** The index of the rule that applies to a priority, or -1 for none. */
export function ruleFor(rules: readonly RoutingRule[], priority: number): number {
  return rules.findIndex((r) => priority >= r.min_priority && priority <= r.max_priority);
}

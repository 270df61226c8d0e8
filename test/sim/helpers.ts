/**
 * Shared fixtures of the simulator tests: the example config's production
 * environment, small hand-made traces, and `main([...])` with stdout/stderr
 * captured. Nothing here reads ../shared: the tests run in a user's clone.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig, selectEnvironment, type ConfigInput } from '../../lambdas/core/config';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../lambdas/core/config/load';
import { simPoolFrom, type SimPool, type Tunables } from '../../src/sim/sim-config';
import type { Timeline } from '../../src/sim/simulate';
import { parseTrace, type MinuteTrace } from '../../src/sim/trace';
import { VIOLATION_BACKLOG_SHARE } from '../../src/sim/world';

export const ROOT = path.join(__dirname, '..', '..');
export const BUNDLED_TRACE_FILE = path.join(ROOT, 'traces', 'synthetic-day.csv');

/** The production environment of config/mlscale.json (engine, cpu-modules, gpu-modules). */
export const PRODUCTION = selectEnvironment(loadConfigFile(), 'production');

export const poolIndex = (name: string) => PRODUCTION.pools.findIndex((p) => p.name === name);

export function simPool(name: 'engine' | 'cpu-modules' | 'gpu-modules' = 'engine', tunables?: Partial<Tunables>): SimPool {
  return simPoolFrom(PRODUCTION, name, tunables);
}

/** The batch pool the batch tests add to the example config: 0-8 tasks, 2 messages/s each, 10 visible messages per task. */
export const BATCH_POOL = {
  name: 'embed-batch',
  kind: 'batch',
  maxCapacity: 8,
  capacityPerTask: 2,
  messagesPerTask: 10,
  containers: [{ name: 'worker', image: 'public.ecr.aws/docker/library/busybox:stable' }],
} as const;

/** config/mlscale.json (as JSON, for a temp config file) with BATCH_POOL added, its fields overridden by `batch`. */
export function batchConfig(batch: Record<string, unknown> = {}, engine: Record<string, unknown> = {}): Record<string, unknown> {
  const config = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as { pools: Record<string, unknown>[] };
  config.pools = config.pools.map((p) => (p.name === 'engine' ? { ...p, ...engine } : p));
  config.pools.push({ ...BATCH_POOL, ...batch });
  return config;
}

/** The simulator's pool for the production environment of a config object. */
export function simPoolOf(config: Record<string, unknown>, pool: string, tunables?: Partial<Tunables>): SimPool {
  return simPoolFrom(selectEnvironment(parseConfig(config as ConfigInput), 'production'), pool, tunables);
}

/** The batch pool (BATCH_POOL with `batch` overrides) in the production environment. */
export function batchSimPool(batch: Record<string, unknown> = {}, tunables?: Partial<Tunables>): SimPool {
  return simPoolOf(batchConfig(batch), 'embed-batch', tunables);
}

/** 2026-06-02T00:00Z, the day of the bundled trace and of the example config's planned event. */
export const DAY = Date.UTC(2026, 5, 2);
export const MINUTE_MS = 60_000;

/** Minute index of HH:MM in a trace that starts at midnight. */
export const at = (hh: number, mm: number) => hh * 60 + mm;

/** A per-minute trace built in memory (req/s per minute). */
export function minuteTrace(rps: readonly number[], start = DAY, name = 'test'): MinuteTrace {
  return { name, start, rps: [...rps], shape: 'rate series', intervalSeconds: 60, gapsFilled: 0 };
}

let bundled: MinuteTrace | undefined;
/** traces/synthetic-day.csv, parsed once per test file. */
export function bundledTrace(): MinuteTrace {
  bundled ??= parseTrace(readFileSync(BUNDLED_TRACE_FILE, 'utf8'), 'synthetic-day.csv');
  return bundled;
}

/**
 * The world's SLO rule read back from a timeline: the backlog left at the end
 * of a minute is more than 5 % of its ready capacity, or work is waiting with
 * no ready task.
 */
export function violationFlags(timeline: Timeline, capacityPerTask: number): boolean[] {
  return Array.from(timeline.ready, (ready, m) => {
    const backlog = timeline.backlog[m]!;
    return ready > 0 ? backlog > VIOLATION_BACKLOG_SHARE * ready * capacityPerTask * 60 : backlog > 0;
  });
}

export const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

export type { RunResult as CliRun } from '../cli-runner';

/** `mlscale ...argv` in-process (test/cli-runner.ts), loaded on first use: only the CLI's tests pay for importing the CLI. */
export async function runCli(...argv: string[]): Promise<import('../cli-runner').RunResult> {
  const { run } = await import('../cli-runner');
  return run(...argv);
}

/**
 * Vertical right-sizing of a Fargate service (the VPA idea for ECS tasks):
 * from the utilisation a service showed at its current task size, the
 * cheapest valid Fargate cpu/memory pair that would have kept p95 CPU at or
 * under the CPU target and p99 memory at or under the memory limit. Pure:
 * `mlscale rightsize` feeds it what CloudWatch and ECS said.
 *
 * The model, and what it assumes:
 * - utilisation is a percentage of the task's reserved size (AWS/ECS
 *   CPUUtilization and MemoryUtilization are, at task level: a multi-container
 *   task is sized as a whole);
 * - the work a task does stays the same when its size changes, so the
 *   projected utilisation of a candidate is observed % × current ÷ candidate
 *   (CPU units and MiB separately);
 * - "under" the limits means at or under them: the CPU and memory alarms
 *   fire on GreaterThanThreshold, and target tracking aims at its target;
 * - cost is at the same number of tasks: a size that keeps p95 CPU at or
 *   under the target gives target tracking no more reason to add tasks than
 *   the current one has.
 */
import { FARGATE_SIZES, type FargateSize } from './config/fargate';
import { HOURS_PER_MONTH, type FargatePrice } from './config/fargate-prices';
import type { Point } from './work';

export type { FargateSize } from './config/fargate';

/** Less history than this says nothing about a weekly pattern (predictive scaling asks the same, docs/aws-facts.md). */
export const MIN_HISTORY_HOURS = 24;

/** The percentiles the decision works on. */
export const CPU_PERCENTILE = 95;
export const MEMORY_PERCENTILE = 99;

/** Rounding slack when comparing a projection with its limit (35 % × 1024 ÷ 512 is 70 %, not 70.0000001 %). */
const EPSILON = 1e-9;

/** The nearest-rank percentile of `values` (p in (0, 100]); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface UtilizationSummary {
  /** p95 of the CPU datapoints, % of the task's CPU; undefined without data. */
  readonly cpuP95?: number;
  /** p99 of the memory datapoints, % of the task's memory; undefined without data. */
  readonly memoryP99?: number;
  readonly cpuHours: number;
  readonly memoryHours: number;
  /** The hours both series cover: the smaller of the two. */
  readonly hours: number;
}

/** Percentiles and coverage of the two series (one datapoint per `periodSeconds`). */
export function summarizeUtilization(cpu: readonly Point[], memory: readonly Point[], periodSeconds: number): UtilizationSummary {
  const cpuHours = (cpu.length * periodSeconds) / 3600;
  const memoryHours = (memory.length * periodSeconds) / 3600;
  const cpuP95 = percentile(cpu.map((p) => p.v), CPU_PERCENTILE);
  const memoryP99 = percentile(memory.map((p) => p.v), MEMORY_PERCENTILE);
  return { ...(cpuP95 !== undefined ? { cpuP95 } : {}), ...(memoryP99 !== undefined ? { memoryP99 } : {}), cpuHours, memoryHours, hours: Math.min(cpuHours, memoryHours) };
}

/** Whole hours of data, as messages give them (23.9 h is not yet 24). */
export const wholeHours = (hours: number) => Math.floor(hours + EPSILON);

export interface RightsizeInput {
  /** The task size the utilisation was measured at (the deployed task definition's). */
  readonly current: FargateSize;
  /** Observed p95 CPU, % of `current.cpu`. */
  readonly cpuP95Percent: number;
  /** Observed p99 memory, % of `current.memoryMiB`. */
  readonly memoryP99Percent: number;
  /** The pool's CPU target (thresholds.cpuPercent). */
  readonly cpuTargetPercent: number;
  /** The memory limit (thresholds.memoryPercent, 80 by default). */
  readonly memoryLimitPercent: number;
  readonly price: FargatePrice;
  /** Tasks running on average: what the monthly cost is for. */
  readonly averageTasks: number;
}

export interface SizeOption extends FargateSize {
  /** Projected p95 CPU at this size, %. */
  readonly cpuP95Percent: number;
  /** Projected p99 memory at this size, %. */
  readonly memoryP99Percent: number;
  /** USD per month at the average task count. */
  readonly monthlyCostUsd: number;
  /** Both projections at or under their limits. */
  readonly fits: boolean;
}

/**
 * downsize / upsize: a different size, cheaper / dearer; keep: the current
 * size is already the cheapest that fits; none-fits: no Fargate size does.
 */
export type RightsizeVerdict = 'downsize' | 'upsize' | 'keep' | 'none-fits';

export interface RightsizeDecision {
  readonly current: SizeOption;
  /** The cheapest size that fits; undefined when none does. */
  readonly recommended?: SizeOption;
  readonly verdict: RightsizeVerdict;
  /** recommended − current, USD per month; undefined when nothing fits. */
  readonly monthlyDifferenceUsd?: number;
  /** Which limit the recommended size is closest to (its projection ÷ limit is larger). */
  readonly bound?: 'cpu' | 'memory';
  readonly reason: string;
  /** Every Fargate size that fits, cheapest first (the recommendation is the first). */
  readonly fitting: readonly SizeOption[];
}

/** USD per task-hour of a size: vCPUs × price per vCPU-hour + GB × price per GB-hour. */
export const taskHourUsd = (size: FargateSize, price: FargatePrice) => (size.cpu / 1024) * price.vcpuHour + (size.memoryMiB / 1024) * price.gbHour;

/** USD per month of `tasks` tasks of a size running all month. */
export const monthlyUsd = (size: FargateSize, price: FargatePrice, tasks: number) => taskHourUsd(size, price) * HOURS_PER_MONTH * tasks;

/** Utilisation at `candidate` of work that showed `observedPercent` at `current` (one dimension). */
export const projectedPercent = (observedPercent: number, current: number, candidate: number) => (observedPercent * current) / candidate;

const sizeText = (s: FargateSize) => `${s.cpu} CPU / ${s.memoryMiB} MiB`;
const pct = (n: number) => `${Number(n.toFixed(1))} %`;

/** A size with its projections and cost under `input`. */
export function option(size: FargateSize, input: RightsizeInput): SizeOption {
  const cpuP95Percent = projectedPercent(input.cpuP95Percent, input.current.cpu, size.cpu);
  const memoryP99Percent = projectedPercent(input.memoryP99Percent, input.current.memoryMiB, size.memoryMiB);
  return {
    cpu: size.cpu,
    memoryMiB: size.memoryMiB,
    cpuP95Percent,
    memoryP99Percent,
    monthlyCostUsd: monthlyUsd(size, input.price, input.averageTasks),
    fits: cpuP95Percent <= input.cpuTargetPercent + EPSILON && memoryP99Percent <= input.memoryLimitPercent + EPSILON,
  };
}

/** Cheaper first; at one price, less CPU, then less memory. */
function cheaper(a: SizeOption, b: SizeOption, price: FargatePrice): number {
  return taskHourUsd(a, price) - taskHourUsd(b, price) || a.cpu - b.cpu || a.memoryMiB - b.memoryMiB;
}

/** The cheapest valid Fargate size that keeps p95 CPU and p99 memory within their limits. */
export function rightsize(input: RightsizeInput): RightsizeDecision {
  const current = option(input.current, input);
  const limits = `p95 CPU at or under ${pct(input.cpuTargetPercent)} and p99 memory at or under ${pct(input.memoryLimitPercent)}`;
  const fitting = FARGATE_SIZES.map((s) => option(s, input))
    .filter((o) => o.fits)
    .sort((a, b) => cheaper(a, b, input.price));
  const best = fitting[0];
  if (!best) {
    const largest = option(FARGATE_SIZES[FARGATE_SIZES.length - 1]!, input);
    const over = [
      largest.cpuP95Percent > input.cpuTargetPercent + EPSILON ? `p95 CPU ${pct(largest.cpuP95Percent)}` : '',
      largest.memoryP99Percent > input.memoryLimitPercent + EPSILON ? `p99 memory ${pct(largest.memoryP99Percent)}` : '',
    ].filter(Boolean);
    return {
      current,
      fitting,
      verdict: 'none-fits',
      reason: `no Fargate size keeps ${limits}: even the largest, ${sizeText(largest)}, projects ${over.join(' and ')}; add tasks instead (maxCapacity)`,
    };
  }
  const bound = best.cpuP95Percent / input.cpuTargetPercent >= best.memoryP99Percent / input.memoryLimitPercent ? 'cpu' : 'memory';
  const same = best.cpu === current.cpu && best.memoryMiB === current.memoryMiB;
  const difference = best.monthlyCostUsd - current.monthlyCostUsd;
  const projected = `projected p95 CPU ${pct(best.cpuP95Percent)}, p99 memory ${pct(best.memoryP99Percent)}`;
  if (same) {
    return { current, fitting, recommended: best, verdict: 'keep', monthlyDifferenceUsd: 0, bound, reason: `${sizeText(best)} is already the cheapest Fargate size that keeps ${limits} (${projected})` };
  }
  return {
    current,
    fitting,
    recommended: best,
    verdict: difference <= 0 ? 'downsize' : 'upsize',
    monthlyDifferenceUsd: difference,
    bound,
    reason: `${sizeText(best)} is the cheapest Fargate size that keeps ${limits} (${projected}; ${bound === 'cpu' ? 'CPU' : 'memory'}-bound)`,
  };
}

/** A container's own reservation in the config (either may be absent: it then shares the task's). */
export interface ContainerLimits {
  readonly name: string;
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
}

/**
 * The containers' own cpu and memoryLimitMiB for a task resized from `from`
 * to `to`: each scaled in proportion (rounded down, memory at least 4 MiB),
 * so their sum still fits the task. Only containers that set a value get
 * one; AWS/ECS measures the task, not its containers, so the split between
 * them is kept as it was.
 */
export function scaleContainers(containers: readonly ContainerLimits[], from: FargateSize, to: FargateSize): ContainerLimits[] {
  return containers
    .filter((c) => c.cpu !== undefined || c.memoryLimitMiB !== undefined)
    .map((c) => ({
      name: c.name,
      ...(c.cpu !== undefined ? { cpu: Math.floor((c.cpu * to.cpu) / from.cpu) } : {}),
      ...(c.memoryLimitMiB !== undefined ? { memoryLimitMiB: Math.max(4, Math.floor((c.memoryLimitMiB * to.memoryMiB) / from.memoryMiB)) } : {}),
    }));
}

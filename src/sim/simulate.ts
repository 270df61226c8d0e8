/**
 * Replay a per-minute load trace through one pool under a scaling policy:
 * - `target-tracking`: AWS-native target tracking only (the policies the pool
 *   kind gets; a scale-to-zero pool gets what one would build natively:
 *   queue-per-task tracking with min 0);
 * - `mlscale`: the full configured set — target tracking plus the
 *   scale-to-zero, emergency and predictive Lambdas (planned events and peak
 *   hours included), through the same decision functions the Lambdas run;
 * - `oracle`: perfect foresight, ready capacity = what each minute needs.
 */
import { clamp } from '../../lambdas/core/capacity';
import { planEmergency } from '../../lambdas/core/emergency';
import { forecastHourly, hourlyPeaks, selectModel } from '../../lambdas/core/forecast';
import { planPrescale, type PlannedAction } from '../../lambdas/core/prescale-plan';
import { decideScaleToZero, lookbackMinutes } from '../../lambdas/core/scale-to-zero';
import type { AlarmSpec } from '../../lambdas/core/alarm-specs';
import { evaluateAlarm } from './alarm-eval';
import type { SimPool } from './sim-config';
import { METRIC_DELAY_MINUTES, TargetTracking, type StepPolicy, type TrackedMetric } from './target-tracking';
import type { MinuteTrace } from './trace';
import { PoolWorld, type MinuteState } from './world';

export const POLICIES = ['target-tracking', 'mlscale', 'oracle'] as const;
export type PolicyName = (typeof POLICIES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface PolicyResult {
  readonly taskMinutes: number;
  readonly violationMinutes: number;
  readonly peakBacklog: number;
  readonly scaleActions: number;
  readonly coldStarts: number;
  readonly costUsd: number;
  readonly tasksLaunched: number;
  readonly emergencies: number;
  readonly violationPercent: number;
}

export interface Timeline {
  readonly ready: Float64Array;
  readonly tasks: Float64Array;
  readonly backlog: Float64Array;
}

export interface SimRun {
  readonly result: PolicyResult;
  readonly timeline: Timeline;
}

/** Forecasts depend on the trace only, not on the tunables: `--tune` reuses them. */
export class ForecastCache {
  private readonly byMinute = new Map<number, number[] | null>();

  get(minute: number, compute: () => number[] | null): number[] | null {
    if (!this.byMinute.has(minute)) this.byMinute.set(minute, compute());
    return this.byMinute.get(minute)!;
  }
}

/** p95 of an idle pool: 40 % of the pool's latency alarm threshold (its latency budget). */
function baseP95(sim: SimPool): number {
  const t = sim.thresholds;
  if (sim.pool.kind === 'always-on') return 0.4 * t.p95Ms;
  return (0.4 * (sim.pool.kind === 'demand' ? t.cpuModuleP99Ms : t.gpuModuleP99Ms)) / 1.5;
}

export interface SimulateOptions {
  readonly forecasts?: ForecastCache;
  /** Keep per-minute series for charts (memory: 3 × 8 bytes per minute). @default true */
  readonly timeline?: boolean;
  /**
   * Count results from this minute on (the minutes before still run, so state
   * and forecast history are what they would be). @default 0
   */
  readonly measureFrom?: number;
}

/** Run one policy over the trace. */
export function simulate(trace: MinuteTrace, sim: SimPool, policy: PolicyName, options: SimulateOptions = {}): SimRun {
  const { pool } = sim;
  const n = trace.rps.length;
  const startupMinutes = policy === 'oracle' ? 0 : Math.max(1, Math.ceil(pool.startupSeconds / 60));
  // Every policy starts warm, as a running system would: enough capacity for the first minute
  // (within the limits), so no policy pays for a cold start the trace did not contain.
  const warm = n > 0 ? Math.ceil(trace.rps[0]! / pool.capacityPerTask - 1e-9) : 0;
  const world = new PoolWorld({ capacityPerTask: pool.capacityPerTask, startupMinutes, baseP95Ms: baseP95(sim) }, clamp(warm, pool.minCapacity, pool.maxCapacity));
  const keep = options.timeline ?? true;
  const timeline: Timeline = { ready: new Float64Array(keep ? n : 0), tasks: new Float64Array(keep ? n : 0), backlog: new Float64Array(keep ? n : 0) };
  const controller = policy === 'oracle' ? undefined : new Controller(trace, sim, policy, options.forecasts ?? new ForecastCache());

  let taskMinutes = 0;
  let violations = 0;
  let peakBacklog = 0;
  let scaleActions = 0;
  let coldStarts = 0;
  let launched = 0;
  let backlog = 0;
  const from = options.measureFrom ?? 0;
  if (!Number.isInteger(from) || from < 0 || (n > 0 && from >= n)) throw new Error(`measureFrom must be a minute within the trace (0..${n - 1}), got ${from}`);
  let emergenciesBefore = 0;
  for (let m = 0; m < n; m++) {
    if (m === from) {
      [taskMinutes, violations, peakBacklog, scaleActions, coldStarts, launched] = [0, 0, 0, 0, 0, 0];
      emergenciesBefore = controller?.emergencies ?? 0;
    }
    if (policy === 'oracle') {
      const need = Math.ceil((trace.rps[m]! * 60 + backlog) / (pool.capacityPerTask * 60) - 1e-9);
      // Perfect foresight may go as high as any policy may: the emergency ceiling when there is one.
      const target = clamp(need, pool.minCapacity, Math.max(pool.maxCapacity, sim.emergency.enabled ? sim.emergency.ceiling : 0));
      if (target !== world.desired) {
        if (world.desired === 0 && target > 0) coldStarts++;
        scaleActions++;
        launched += world.setDesired(target, m);
      }
    }
    const state = world.step(m, trace.rps[m]!);
    backlog = state.backlog;
    taskMinutes += state.tasks;
    if (state.violation) violations++;
    peakBacklog = Math.max(peakBacklog, state.backlog);
    if (keep) {
      timeline.ready[m] = state.ready;
      timeline.tasks[m] = state.tasks;
      timeline.backlog[m] = state.backlog;
    }
    if (controller) {
      const next = controller.observe(m, state);
      if (next !== undefined && next !== world.desired) {
        if (world.desired === 0 && next > 0) coldStarts++;
        scaleActions++;
        launched += world.setDesired(next, m + 1);
      }
    }
  }
  return {
    result: {
      taskMinutes,
      violationMinutes: violations,
      peakBacklog: Math.round(peakBacklog),
      scaleActions,
      coldStarts,
      costUsd: Math.round(((taskMinutes / 60) * sim.usdPerTaskHour) * 100) / 100,
      tasksLaunched: launched,
      emergencies: (controller?.emergencies ?? 0) - emergenciesBefore,
      violationPercent: n - from > 0 ? (100 * violations) / (n - from) : 0,
    },
    timeline,
  };
}

/**
 * The autoscaler of the `target-tracking` and `mlscale` policies: it sees the
 * minute's datapoints and returns the desired capacity for the next minute.
 */
class Controller {
  private readonly cpu: (number | undefined)[] = [];
  private readonly lag: number[] = [];
  private readonly queuePerTask: number[] = [];
  private readonly p95: (number | undefined)[] = [];
  private readonly p99: (number | undefined)[] = [];
  /** Pending work per minute (arrivals + backlog): the scale-to-zero work metric. */
  private readonly work: number[] = [];
  private readonly ready: number[] = [];
  private readonly tracking: TargetTracking;
  private readonly full: boolean;
  private readonly toZero: boolean;

  private scheduled: PlannedAction[] = [];
  /**
   * The floor the scale-to-zero Lambda keeps (min 0 when idle, scaleFromZeroTo while there is work);
   * set at the first minute from the capacity the run starts with, as a running pool would have it.
   */
  private lambdaFloor: number | undefined;
  private scheduledMin: number;
  private incident: { min: number; max: number; okMinutes: number } | undefined;
  private alarmWasFiring = false;
  emergencies = 0;

  constructor(
    private readonly trace: MinuteTrace,
    private readonly sim: SimPool,
    policy: Exclude<PolicyName, 'oracle'>,
    private readonly forecasts: ForecastCache,
  ) {
    const { pool, thresholds, tunables } = sim;
    this.full = policy === 'mlscale';
    this.toZero = pool.kind === 'scale-to-zero';
    this.scheduledMin = pool.minCapacity;
    const metrics: TrackedMetric[] = [];
    let step: StepPolicy | undefined;
    if (pool.kind === 'always-on') {
      metrics.push({ name: 'CPU', target: this.full ? tunables.cpuPercent : thresholds.cpuPercent, series: this.cpu });
      if (pool.trackConsumerLag) metrics.push({ name: 'ConsumerLag', target: thresholds.consumerLag, series: this.lag });
    } else {
      metrics.push({ name: 'queue per task', target: thresholds.queueDepthPerTask, series: this.queuePerTask });
      if (pool.kind === 'demand') step = { series: this.p99, threshold: thresholds.cpuModuleP99Ms, steps: [20, 50] };
    }
    const out = this.full ? tunables.scaleOutCooldownSeconds : pool.scaleOutCooldownSeconds;
    const inn = this.full ? tunables.scaleInCooldownSeconds : pool.scaleInCooldownSeconds;
    this.tracking = new TargetTracking(metrics, { scaleOutCooldownMinutes: out / 60, scaleInCooldownMinutes: inn / 60 }, this.ready, step);
  }

  private time(minute: number): number {
    return this.trace.start + minute * MINUTE;
  }

  observe(m: number, s: MinuteState): number | undefined {
    this.cpu[m] = s.cpu;
    this.lag[m] = s.queueDepth;
    this.queuePerTask[m] = s.ready > 0 ? s.queueDepth / s.ready : s.queueDepth;
    this.p95[m] = s.p95Ms;
    this.p99[m] = s.p99Ms;
    // Work pending during the minute: what arrived plus what waited.
    this.work[m] = s.backlog + s.loadRps * 60;
    this.ready[m] = s.ready;

    const { pool } = this.sim;
    const next = m + 1;
    let desired = s.desired;
    let min = pool.minCapacity;
    let max = pool.maxCapacity;
    if (this.full) {
      this.runEmergency(next, s);
      if (!this.incident) {
        this.runPredictive(next, s);
        for (const a of this.scheduled) if (a.at <= this.time(next)) this.scheduledMin = a.minCapacity;
        this.scheduled = this.scheduled.filter((a) => a.at > this.time(next));
      }
      min = Math.max(min, this.scheduledMin, this.incident?.min ?? 0);
      max = Math.max(max, this.incident?.max ?? 0);
    }

    if (this.full && this.toZero) {
      if (this.lambdaFloor === undefined) {
        const from = pool.kind === 'scale-to-zero' ? pool.scaleFromZeroTo : 1;
        this.lambdaFloor = s.desired > 0 ? Math.min(max, Math.max(from, min)) : min;
      }
      // The Lambda sets the floor (and desired with it); target tracking works above it.
      const to = this.scaleToZero(next, desired, min, max);
      if (to !== desired) this.lambdaFloor = to > desired ? to : min;
      desired = to;
      min = Math.max(min, this.lambdaFloor);
    }
    const tt = this.tracking.decide(next, desired, this.incident !== undefined);
    if (tt) desired = tt.desired;
    // Application Auto Scaling keeps desired within the registered limits.
    return clamp(desired, min, max);
  }

  private scaleToZero(minute: number, desired: number, min: number, max: number): number {
    const { pool, tunables } = this.sim;
    const lookback = lookbackMinutes({ idleMinutes: tunables.idleMinutes });
    const points = [];
    const newest = minute - METRIC_DELAY_MINUTES;
    for (let k = Math.max(0, newest - lookback); k <= newest; k++) points.push({ t: this.time(k), v: this.work[k]! });
    const decision = decideScaleToZero({
      policy: {
        minCapacity: min,
        maxCapacity: max,
        idleMinutes: tunables.idleMinutes,
        scaleFromZeroTo: pool.kind === 'scale-to-zero' ? pool.scaleFromZeroTo : 1,
        missingDataIsIdle: pool.kind === 'scale-to-zero' ? pool.missingDataIsIdle : false,
      },
      desired,
      work: { points },
      now: this.time(minute),
    });
    return decision.to;
  }

  /** The simulated datapoints an alarm kind watches. */
  private seriesFor(kind: AlarmSpec['kind']): readonly (number | undefined)[] {
    switch (kind) {
      case 'cpu':
        return this.cpu;
      case 'consumerLag':
        return this.lag;
      case 'queueDepth':
        return this.queuePerTask;
      case 'processingLatency':
      case 'grpcLatency':
        return this.p99;
      case 'latencyP95':
      case 'emergencyLatency':
        return this.p95;
      default:
        return [];
    }
  }

  private runEmergency(minute: number, s: MinuteState): void {
    const { emergency, pool } = this.sim;
    if (!emergency.enabled || emergency.alarms.length === 0) return;
    const newest = minute - METRIC_DELAY_MINUTES;
    const firing = emergency.alarms.some((a) => evaluateAlarm(a, this.seriesFor(a.kind), newest) === 'ALARM');
    if (this.incident) {
      // The runbook resumes once the alarms have been OK for the stable period.
      this.incident.okMinutes = firing ? 0 : this.incident.okMinutes + 1;
      if (this.incident.okMinutes >= emergency.stableMinutes) this.incident = undefined;
    } else if (firing && !this.alarmWasFiring) {
      const min = Math.max(pool.minCapacity, this.scheduledMin);
      const plan = planEmergency({ desired: s.desired, min, max: pool.maxCapacity }, emergency.ceiling);
      this.incident = { min: plan.after.min, max: plan.after.max, okMinutes: 0 };
      this.emergencies++;
    }
    this.alarmWasFiring = firing;
  }

  private runPredictive(minute: number, s: MinuteState): void {
    const { sim } = this;
    const hasSchedules = sim.plannedEvents.length > 0 || sim.peakHours.length > 0;
    if (!sim.predictive.enabled && !hasSchedules) return;
    const period = sim.predictive.scheduleMinutes * MINUTE;
    const now = this.time(minute);
    if (now % period !== 0) return;

    let load: number[] | null = null;
    if (sim.predictive.enabled) {
      load = this.forecasts.get(minute, () => this.forecast(minute));
    }
    const { pool, tunables } = sim;
    const plan = planPrescale({
      now,
      baseMin: pool.minCapacity,
      max: pool.maxCapacity,
      currentMin: this.scheduledMin,
      desired: s.desired,
      horizonHours: sim.predictive.horizonHours,
      ...(load && sim.predictive.mode === 'forecast-and-scale'
        ? {
            forecast: {
              firstHour: Math.floor(now / HOUR) * HOUR,
              load,
              perReplica: pool.predictive.targetPerReplica,
              headroom: tunables.headroom,
              leadMinutes: tunables.leadMinutes,
            },
          }
        : {}),
      events: sim.plannedEvents,
      peakHours: sim.peakHours,
    });
    this.scheduled = [...plan.actions];
  }

  /** What the predictive Lambda would forecast at `minute`: hourly peaks of the history, its model. */
  private forecast(minute: number): number[] | null {
    const { sim } = this;
    const now = this.time(minute);
    const currentHour = Math.floor(now / HOUR) * HOUR;
    const hours = 14 * 24;
    const historyStart = currentHour - hours * HOUR;
    const from = Math.max(0, Math.floor((historyStart - this.trace.start) / MINUTE));
    const to = Math.floor((currentHour - this.trace.start) / MINUTE);
    if (to - from < 24 * 60) return null;
    const points = [];
    for (let k = from; k < to; k++) points.push({ t: this.time(k), v: this.trace.rps[k]! });
    const history = hourlyPeaks(points, historyStart, hours);
    return forecastHourly(history, sim.predictive.horizonHours, selectModel(history, sim.predictive.horizonHours));
  }
}

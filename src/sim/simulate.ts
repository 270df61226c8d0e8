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
import { drainHold, type DrainSpec } from '../../lambdas/core/drain';
import { emergencyHold, openingRaise, watchIncident } from '../../lambdas/core/emergency-raise';
import { fitForecast, forecastFrom, forecastOrigin, forecastTrust, type FittedForecast } from '../../lambdas/core/forecast';
import { forecastHolds } from '../../lambdas/core/forecast-holds';
import { holderKind, isActive, NOT_SUSPENDED, type Hold, type Suspension } from '../../lambdas/core/holds';
import { reconcile } from '../../lambdas/core/reconcile';
import { scheduleHolds } from '../../lambdas/core/schedules';
import { idleVerdict, lookbackMinutes, wakeHold, workState } from '../../lambdas/core/work';
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

/**
 * Forecasts depend on the trace only, not on the tunables: one fit per
 * refit origin (every 6 hours, as AWS predictive scaling and the predictive
 * Lambda do), shared by every run over the trace (`--tune` makes hundreds).
 */
export class ForecastCache {
  private readonly byOrigin = new Map<number, FittedForecast | null>();
  /** Hourly peaks of the trace, computed once. */
  private peaks: { start: number; values: Float64Array } | undefined;

  get(origin: number, compute: () => FittedForecast | null): FittedForecast | null {
    if (!this.byOrigin.has(origin)) this.byOrigin.set(origin, compute());
    return this.byOrigin.get(origin)!;
  }

  /** Peak load of every whole hour of the trace (req/s), hours from the first whole hour. */
  hourlyPeaks(trace: MinuteTrace): { start: number; values: Float64Array } {
    if (!this.peaks) {
      const start = Math.ceil(trace.start / HOUR) * HOUR;
      const first = Math.round((start - trace.start) / MINUTE);
      const values = new Float64Array(Math.max(0, Math.floor((trace.rps.length - first) / 60)));
      for (let m = first; m < first + values.length * 60; m++) {
        const h = Math.floor((m - first) / 60);
        if (trace.rps[m]! > values[h]!) values[h] = trace.rps[m]!;
      }
      this.peaks = { start, values };
    }
    return this.peaks;
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
 * For `mlscale` every actor writes holds exactly as the Lambdas do (the
 * emergency, the forecast, the schedules, scale-to-zero's wake) and the same
 * `reconcile` turns them into the limits target tracking works within: what
 * the simulator measures is what deploys.
 */
class Controller {
  private readonly cpu: (number | undefined)[] = [];
  private readonly lag: number[] = [];
  /** Requests served per second (the request-count metric). */
  private readonly served: number[] = [];
  private readonly queuePerTask: number[] = [];
  private readonly p95: (number | undefined)[] = [];
  private readonly p99: (number | undefined)[] = [];
  /** Pending work per minute (arrivals + backlog): the scale-to-zero work metric. */
  private readonly work: number[] = [];
  private readonly ready: number[] = [];
  private readonly tracking: TargetTracking;
  private readonly full: boolean;
  private readonly toZero: boolean;

  /** The holds the actors have written, by holder. */
  private readonly holds = new Map<string, Hold>();
  /** What the reconciler last registered. */
  private limits: { min: number; max: number; suspension: Suspension };
  private incident: { holder: string; okMinutes: number } | undefined;
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
    this.limits = { min: pool.minCapacity, max: pool.maxCapacity, suspension: NOT_SUSPENDED };
    const metrics: TrackedMetric[] = [];
    let step: StepPolicy | undefined;
    if (pool.kind === 'always-on') {
      metrics.push({ name: 'CPU', target: this.full ? tunables.cpuPercent : thresholds.cpuPercent, series: this.cpu });
      // mlscale sizes scale-out on the lag to what drains it (the drain floor below) instead of tracking total lag,
      // unless the pool asks for AWS target tracking on lag.
      if (pool.trackConsumerLag && (!this.full || pool.lagScaling === 'target-tracking')) metrics.push({ name: 'ConsumerLag', target: thresholds.consumerLag, series: this.lag });
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

  private put(h: Hold): void {
    this.holds.set(h.holder, h);
  }

  observe(m: number, s: MinuteState): number | undefined {
    this.cpu[m] = s.cpu;
    this.lag[m] = s.queueDepth;
    this.served[m] = s.servedRps;
    this.queuePerTask[m] = s.ready > 0 ? s.queueDepth / s.ready : s.queueDepth;
    this.p95[m] = s.p95Ms;
    this.p99[m] = s.p99Ms;
    // Work pending during the minute: what arrived plus what waited.
    this.work[m] = s.backlog + s.loadRps * 60;
    this.ready[m] = s.ready;

    const { pool } = this.sim;
    const next = m + 1;
    const now = this.time(next);
    let desired = s.desired;
    let min = pool.minCapacity;
    let max = pool.maxCapacity;
    let scaleInSuspended = false;
    if (this.full) {
      this.runEmergency(next, s, now);
      this.runDrain(next, s, now);
      this.runPredictive(next, s, now);
      let idle: { idle: boolean; reason: string } | undefined;
      if (this.toZero) idle = this.runScaleToZero(next, s, now);
      const stored = [...this.holds.values()].filter((h) => h.expiresAt * 1000 > now);
      for (const h of this.holds.values()) if (h.expiresAt * 1000 <= now) this.holds.delete(h.holder);
      const forecastFloor = Math.max(0, ...stored.filter((h) => holderKind(h.holder) === 'predictive' && isActive(h, now)).map((h) => h.floor ?? 0));
      const holds = [...stored, ...scheduleHolds({ name: pool.name, plannedEvents: this.sim.plannedEvents, peakHours: this.sim.peakHours }, now, Math.max(pool.minCapacity, forecastFloor))];
      const r = reconcile({
        configured: { min: pool.minCapacity, max: pool.maxCapacity, ceiling: this.sim.emergency.enabled ? this.sim.emergency.ceiling : pool.maxCapacity, scaleToZero: this.toZero && pool.minCapacity === 0 },
        holds,
        observed: { desired, min: this.limits.min, max: this.limits.max, suspension: this.limits.suspension, registered: true },
        now,
        ...(idle ? { idle } : {}),
      });
      this.limits = { min: r.min, max: r.max, suspension: r.suspension };
      [desired, min, max, scaleInSuspended] = [r.desired, r.min, r.max, r.suspension.dynamicIn];
    }
    const tt = this.tracking.decide(next, desired, scaleInSuspended);
    if (tt) desired = tt.desired;
    // Application Auto Scaling keeps desired within the registered limits.
    return clamp(desired, min, max);
  }

  /** Scale-to-zero's wake hold, as the reconciler writes it; returns the idle verdict for the pass. */
  private runScaleToZero(minute: number, s: MinuteState, now: number): { idle: boolean; reason: string } {
    const { pool, tunables } = this.sim;
    const lookback = lookbackMinutes({ idleMinutes: tunables.idleMinutes });
    const points = [];
    const newest = minute - METRIC_DELAY_MINUTES;
    for (let k = Math.max(0, newest - lookback); k <= newest; k++) points.push({ t: this.time(k), v: this.work[k]! });
    const spec = {
      name: pool.name,
      idleMinutes: tunables.idleMinutes,
      scaleFromZeroTo: pool.kind === 'scale-to-zero' ? pool.scaleFromZeroTo : 1,
    };
    const state = workState(
      { work: { points } },
      { idleMinutes: tunables.idleMinutes, missingDataIsIdle: pool.kind === 'scale-to-zero' ? pool.missingDataIsIdle : false, gpuIdlePercent: 5 },
      now,
    );
    const wake = wakeHold(spec, state, s.desired, this.holds.get('wake'), now);
    const verdict = idleVerdict({}, state);
    if (wake) this.put(wake);
    else if (verdict.idle) this.holds.delete('wake');
    return verdict;
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

  /** What the metrics say of the backlog at the newest datapoint the controller can see. */
  private backlogAt(minute: number) {
    const newest = minute - METRIC_DELAY_MINUTES;
    if (newest < 0 || this.lag[newest] === undefined) return undefined;
    return {
      observation: { backlog: this.lag[newest]!, ...(newest > 0 ? { previousBacklog: this.lag[newest - 1]! } : {}), processedPerSecond: this.served[newest]! },
      ready: this.ready[newest]!,
    };
  }

  /** The drain settings the targets document gives an always-on pool that scales on lag (tunables applied). */
  private drainSpec(): DrainSpec | undefined {
    const { pool, tunables, thresholds } = this.sim;
    if (pool.kind !== 'always-on' || !pool.trackConsumerLag || pool.lagScaling !== 'drain') return undefined;
    return {
      capacityPerTask: pool.capacityPerTask,
      targetUtilization: tunables.cpuPercent / 100,
      drainSeconds: tunables.drainSeconds,
      startupSeconds: pool.startupSeconds,
      backlogThreshold: thresholds.consumerLag,
    };
  }

  /** The reconciler's drain floor (lambdas/core/drain.ts), renewed while the backlog needs it. */
  private runDrain(minute: number, s: MinuteState, now: number): void {
    const spec = this.drainSpec();
    if (!spec) return;
    const hold = drainHold(this.sim.pool.name, spec, this.backlogAt(minute), Math.max(s.desired, this.sim.pool.minCapacity), this.sim.pool.maxCapacity, now);
    if (hold) this.put(hold);
  }

  /**
   * The emergency runbook: when an emergency alarm fires, open an incident
   * sized to the backlog — or none, when the capacity already asked for
   * clears it in time; each minute keep the raise sized to the backlog, and
   * release it as soon as the alarms are OK and the backlog has drained, or
   * once the alarms have stayed OK for the stable period.
   */
  private runEmergency(minute: number, s: MinuteState, now: number): void {
    const { emergency, pool } = this.sim;
    if (!emergency.enabled || emergency.alarms.length === 0) return;
    const newest = minute - METRIC_DELAY_MINUTES;
    const firing = emergency.alarms.some((a) => evaluateAlarm(a, this.seriesFor(a.kind), newest) === 'ALARM');
    if (this.incident && !this.holds.has(this.incident.holder)) this.incident = undefined;
    const signal = this.backlogAt(minute);
    const drain = this.drainSpec();
    if (this.incident) {
      this.incident.okMinutes = firing ? 0 : this.incident.okMinutes + 1;
      const watch = watchIncident(this.holds.get(this.incident.holder)!, signal, drain, pool.maxCapacity, emergency.ceiling, !firing);
      if (watch.drained || this.incident.okMinutes >= emergency.stableMinutes) {
        this.holds.delete(this.incident.holder);
        this.incident = undefined;
      } else if (watch.resized) {
        this.put(watch.resized);
      }
    } else if (firing && !this.alarmWasFiring) {
      const { raise } = openingRaise(s.desired, signal, drain, pool.maxCapacity, emergency.ceiling);
      if (raise) {
        const hold = emergencyHold(pool.name, `sim-${minute}`, raise, now, emergency.holdMinutes);
        this.put(hold);
        this.incident = { holder: hold.holder, okMinutes: 0 };
        this.emergencies++;
      }
    }
    this.alarmWasFiring = firing;
  }

  /** The predictive Lambda: on its schedule, the forecast's next hours as holds, when the forecast has earned trust. */
  private runPredictive(_minute: number, _s: MinuteState, now: number): void {
    const { sim } = this;
    if (!sim.predictive.enabled || sim.predictive.mode !== 'forecast-and-scale') return;
    const period = sim.predictive.scheduleMinutes * MINUTE;
    if (now % period !== 0) return;
    const origin = forecastOrigin(now);
    const fitted = this.forecasts.get(origin, () => this.fit(origin));
    if (!fitted) return;
    const trust = forecastTrust(fitted, sim.predictive.maxError);
    if (!trust.trusted) {
      this.untrustedRuns++;
      return;
    }
    const { pool, tunables } = sim;
    const hour = Math.floor(now / HOUR) * HOUR;
    const { holds } = forecastHolds({
      target: pool.name,
      firstHour: hour,
      load: forecastFrom(fitted, hour),
      perReplica: pool.predictive.targetPerReplica,
      headroom: tunables.headroom,
      leadMinutes: tunables.leadMinutes,
      min: pool.minCapacity,
      max: pool.maxCapacity,
      now,
    });
    for (const h of holds) this.put(h);
  }

  /** Runs of the predictive Lambda whose forecast was not trusted (reactive scaling only). */
  untrustedRuns = 0;

  /** What the predictive Lambda fits at `origin`: hourly peaks of up to 14 days before it. */
  private fit(origin: number): FittedForecast | null {
    const { sim } = this;
    const peaks = this.forecasts.hourlyPeaks(this.trace);
    const end = Math.floor((origin - peaks.start) / HOUR);
    const hours = Math.min(end, sim.predictive.historyDays * 24);
    if (hours < 24) return null;
    const history = { start: origin - hours * HOUR, values: Array.from(peaks.values.subarray(end - hours, end)) };
    return fitForecast(history, origin, sim.predictive.horizonHours);
  }
}

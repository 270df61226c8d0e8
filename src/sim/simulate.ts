/**
 * Replay a per-minute load trace through one pool under scaling policies:
 * - `target-tracking`: AWS-native target tracking only, the policies the pool
 *   kind gets (CPU 70 % + Kafka ConsumerLag 1000 for an always-on pool; queue
 *   per task + the p99 step policy for a demand pool; a scale-to-zero pool
 *   gets what one would build natively: queue-per-task tracking with min 0;
 *   a batch pool visible messages per running task, min 0);
 * - `target-tracking-cpu`: CPU target tracking alone, what AWS's default ECS
 *   service autoscaling sets up, on every kind of pool;
 * - `mlscale`: the full configured set — target tracking (and the lag-growth
 *   step policy with scaleOnLagGrowth) plus the scale-to-zero (and batch)
 *   wake/idle holds, emergency and predictive Lambdas (planned events and peak
 *   hours included), through the same decision functions the Lambdas run;
 * - `oracle`: perfect foresight, ready capacity = what each minute needs.
 *
 * The policies run in lockstep, minute by minute, over one pass of the trace
 * (`runLockstep`): each is a lane with its own pool and controller, the
 * trace's minute is read once and given to every lane. Controllers keep only
 * bounded windows (ring buffers sized by their longest lookback, 14 days of
 * hourly peaks for the forecast), and per-minute series only when asked
 * (bucketed on the fly for charts), so memory is flat in trace length.
 * Every lane also counts its flaps (src/sim/flap-counter.ts), and a batch
 * pool's lanes the oldest message's age (src/sim/world.ts).
 */
import { clamp } from '../../lambdas/core/capacity';
import { DEFAULTS } from '../../lambdas/core/config/defaults';
import { drainHold, type BacklogSignal, type DrainSpec } from '../../lambdas/core/drain';
import { emergencyHold, openingRaise, watchIncident } from '../../lambdas/core/emergency-raise';
import { enoughHistory, fitForecast, MIN_HISTORY_HOURS, forecastFrom, forecastOrigin, forecastTrust, REFIT_HOURS, type FittedForecast } from '../../lambdas/core/forecast';
import { forecastHolds } from '../../lambdas/core/forecast-holds';
import { holderKind, isActive, NOT_SUSPENDED, type Hold, type HolderKind, type Suspension } from '../../lambdas/core/holds';
import { reconcile, type Reconciliation } from '../../lambdas/core/reconcile';
import { scheduleHolds, type Schedules } from '../../lambdas/core/schedules';
import { idleVerdict, lookbackMinutes, wakeHold, workState } from '../../lambdas/core/work';
import type { AlarmSpec } from '../../lambdas/core/config/alarm-specs';
import { evaluateAlarm } from './alarm-eval';
import { FlapCounter } from './flap-counter';
import { LagGrowthScaling } from './lag-growth';
import { Ring } from './ring';
import { StepScaleIn } from './scale-in';
import { stepScaleInCooldownSeconds, usesStepScaleIn } from '../../lambdas/core/scale-in';
import { lagGrowthOf, type SimPool } from './sim-config';
import { HIGH_DATAPOINTS, LOW_DATAPOINTS, METRIC_DELAY_MINUTES, TargetTracking, type Series, type StepPolicy, type TrackedMetric } from './target-tracking';
import { streamOf, type MinuteTrace, type TraceStream } from './trace';
import { PoolWorld, type MinuteState } from './world';
import { scalesToZero } from '../../lambdas/core/config/pool-kind';

export const POLICIES = ['target-tracking', 'target-tracking-cpu', 'mlscale', 'oracle'] as const;
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
  /** Scheduled runs of the predictive Lambda (mlscale with forecast-and-scale; 0 otherwise). */
  readonly predictiveRuns: number;
  /** Of those, runs whose forecast was fitted but not trusted (reactive scaling only in that hour). */
  readonly forecastUntrustedRuns: number;
  /** Most reversals of desired capacity in any rolling hour (lambdas/core/flaps.ts, as the reconciler counts them). */
  readonly flaps: number;
  /** Hours of the trace with more reversals than thrash.maxDirectionChangesPerHour. */
  readonly flappingHours: number;
  /** Batch pools: the oldest waiting message's largest age, seconds. */
  readonly peakMessageAgeSeconds?: number;
  /** Batch pools: minutes the `oldestMessageAge` alarm (as deployed) would be in ALARM. */
  readonly messageAgeAlarmMinutes?: number;
  /** mlscale on a pool with scaleOnLagGrowth: times the lag-growth step policy raised desired capacity. */
  readonly lagGrowthScaleOuts?: number;
}

/** Why the predictive Lambda did not act on the forecast, over the runs counted. */
export interface ForecastStats {
  readonly runs: number;
  /** Under 24 hours of history: no forecast at all. */
  readonly noForecast: number;
  /** Fitted but not trusted (the sum of the two below). */
  readonly untrusted: number;
  /** Under five days of history: the forecast has not been backtested yet. */
  readonly notBacktested: number;
  /** Backtest WAPE above the limit. */
  readonly aboveMaxError: number;
  /** Mean and largest backtest WAPE of those runs (fractions). */
  readonly meanWape?: number;
  readonly maxWape?: number;
}

export interface Timeline {
  readonly ready: Float64Array;
  readonly tasks: Float64Array;
  readonly backlog: Float64Array;
  /** Minutes per point: 1 = per minute; more = each point the maximum of that many minutes. @default 1 */
  readonly bucketMinutes?: number;
  /** The SLO-violation minutes, exactly, as ranges [from, to) (recorded with any timeline). */
  readonly violations?: readonly { readonly from: number; readonly to: number }[];
  /** Minutes at which an emergency scale-out took effect. */
  readonly emergencies?: readonly number[];
  /** Batch pools: the oldest waiting message's age at the end of each minute (or each bucket's maximum), seconds. */
  readonly messageAgeSeconds?: Float64Array;
}

export interface SimRun {
  readonly result: PolicyResult;
  readonly timeline: Timeline;
  readonly forecast: ForecastStats;
}

/**
 * Forecasts depend on the trace only, not on the tunables: one fit per
 * refit origin (every 6 hours, as AWS predictive scaling and the predictive
 * Lambda do), shared by every run over the same trace (`--tune` makes
 * hundreds: `retain: 'all'`, the default). A single comparison needs each fit
 * once, in time order: `retain: 'latest'` keeps only the one in force.
 */
export class ForecastCache {
  private readonly byOrigin = new Map<number, FittedForecast | null>();

  constructor(private readonly retain: 'all' | 'latest' = 'all') {}

  get(origin: number, compute: () => FittedForecast | null): FittedForecast | null {
    if (!this.byOrigin.has(origin)) {
      if (this.retain === 'latest') this.byOrigin.clear();
      this.byOrigin.set(origin, compute());
    }
    return this.byOrigin.get(origin)!;
  }

  /** Fits held. */
  get size(): number {
    return this.byOrigin.size;
  }
}

/**
 * Peak load of each whole hour of the trace (req/s), hours counted from the
 * first whole hour, for the last `keepHours` complete hours (plus the hours
 * a refit origin can lag behind now): what the predictive Lambda reads
 * (CloudWatch keeps 14 days at hourly resolution; historyDays).
 */
export class HourlyPeaks {
  /** Epoch ms of hour 0 (the first whole hour of the trace). */
  readonly start: number;
  private readonly first: number;
  private readonly values: Float64Array;
  private hour = -1;

  constructor(traceStart: number, readonly keepHours: number) {
    this.start = Math.ceil(traceStart / HOUR) * HOUR;
    this.first = Math.round((this.start - traceStart) / MINUTE);
    this.values = new Float64Array(keepHours + REFIT_HOURS + 1);
  }

  /** Hours kept: the bound on this buffer. */
  get capacity(): number {
    return this.values.length;
  }

  push(minute: number, rps: number): void {
    if (minute < this.first) return;
    const h = Math.floor((minute - this.first) / 60);
    const i = h % this.values.length;
    if (h !== this.hour) {
      this.hour = h;
      this.values[i] = 0;
    }
    if (rps > this.values[i]!) this.values[i] = rps;
  }

  /** Peaks of hours [end − hours, end), oldest first (all complete and kept). */
  window(end: number, hours: number): number[] {
    if (end - hours <= this.hour - this.values.length || end > this.hour + 1) throw new Error(`hourly peaks: hours ${end - hours}..${end - 1} are not all kept (newest ${this.hour})`);
    const out = new Array<number>(hours);
    for (let k = 0; k < hours; k++) out[k] = this.values[(end - hours + k) % this.values.length]!;
    return out;
  }
}

/** Perfect foresight may go as high as any policy may: the emergency ceiling when there is one. */
export function oracleCeiling(sim: SimPool): number {
  return Math.max(sim.pool.maxCapacity, sim.emergency.enabled ? sim.emergency.ceiling : 0);
}

/** Tasks (fractional) a minute needs to serve its arrivals and the backlog it starts with within the minute. */
export function minuteNeed(rps: number, backlog: number, capacityPerTask: number): number {
  return (rps * 60 + backlog) / (capacityPerTask * 60);
}

/** p95 of an idle pool: 40 % of the pool's latency alarm threshold (its latency budget). */
export function baseP95(sim: SimPool): number {
  const t = sim.thresholds;
  const { pool } = sim;
  if (pool.kind === 'always-on') return 0.4 * t.p95Ms;
  // A batch pool's latency budget is its module's, as its alarms have it (lambdas/core/config/alarm-specs.ts).
  const cpuModule = pool.kind === 'demand' || (pool.kind === 'batch' && pool.compute.type === 'fargate');
  return (0.4 * (cpuModule ? t.cpuModuleP99Ms : t.gpuModuleP99Ms)) / 1.5;
}

export interface SimulateOptions {
  readonly forecasts?: ForecastCache;
  /**
   * Keep series for charts: true = per minute (memory: 3 × 8 bytes per
   * minute); `{ bucketMinutes }` = each point the maximum of that many
   * minutes, bucketed as the run goes. @default true for `simulate`, false for `runLockstep`
   */
  readonly timeline?: boolean | { readonly bucketMinutes: number };
  /**
   * Count results from this minute on (the minutes before still run, so state
   * and forecast history are what they would be). @default 0
   */
  readonly measureFrom?: number;
  /** Called every 4,096 minutes with the minutes done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One policy on one pool (its own tunables: `--tune` runs candidates side by side). */
export interface Lane {
  readonly policy: PolicyName;
  readonly sim: SimPool;
}

export interface LockstepRun {
  /** One per lane, in the lanes' order. */
  readonly runs: readonly SimRun[];
  readonly minutes: number;
  /** Of the load replayed (req/s). */
  readonly load: { readonly peakRps: number; readonly meanRps: number; readonly timeline: Float64Array };
  /** The bounded buffers the controllers held (for the memory tests and the bench). */
  readonly buffers: BufferSizes;
}

export interface BufferSizes {
  /** Minutes each datapoint ring of a controller keeps (the largest over the lanes). */
  readonly seriesMinutes: number;
  /** Hours of hourly peaks kept for the forecast (0 without a forecast). */
  readonly hourlyPeaks: number;
  /** Most holds any controller held at once. */
  readonly maxHolds: number;
  /** Fits the forecast cache held at the end. */
  readonly forecasts: number;
  /** Points per timeline series (0 without a timeline). */
  readonly timelinePoints: number;
}

/** Run one policy over a trace in memory. */
export function simulate(trace: MinuteTrace, sim: SimPool, policy: PolicyName, options: SimulateOptions = {}): SimRun {
  return runLockstep(streamOf(trace), [{ policy, sim }], { ...options, timeline: options.timeline ?? true }).runs[0]!;
}

/** Per-minute (or bucketed) series of one lane, and its exact violation ranges and emergency minutes. */
class Recorder {
  readonly ready: Float64Array;
  readonly tasks: Float64Array;
  readonly backlog: Float64Array;
  readonly violations: { from: number; to: number }[] = [];
  readonly emergencies: number[] = [];
  readonly messageAge: Float64Array | undefined;

  constructor(
    minutes: number,
    readonly bucketMinutes: number,
    queue: boolean,
  ) {
    const points = Math.ceil(minutes / bucketMinutes);
    this.ready = new Float64Array(points);
    this.tasks = new Float64Array(points);
    this.backlog = new Float64Array(points);
    this.messageAge = queue ? new Float64Array(points) : undefined;
  }

  record(m: number, s: MinuteState): void {
    if (this.bucketMinutes === 1) {
      this.ready[m] = s.ready;
      this.tasks[m] = s.tasks;
      this.backlog[m] = s.backlog;
    } else {
      // The maximum of each bucket (values are >= 0, so the zeroed array is the empty maximum).
      const i = Math.floor(m / this.bucketMinutes);
      if (s.ready > this.ready[i]!) this.ready[i] = s.ready;
      if (s.tasks > this.tasks[i]!) this.tasks[i] = s.tasks;
      if (s.backlog > this.backlog[i]!) this.backlog[i] = s.backlog;
    }
    if (this.messageAge) {
      const i = Math.floor(m / this.bucketMinutes);
      const age = s.messageAgeSeconds ?? 0;
      if (age > this.messageAge[i]!) this.messageAge[i] = age;
    }
    if (s.violation) {
      const last = this.violations[this.violations.length - 1];
      if (last && last.to === m) last.to = m + 1;
      else this.violations.push({ from: m, to: m + 1 });
    }
  }

  timeline(): Timeline {
    return {
      ready: this.ready,
      tasks: this.tasks,
      backlog: this.backlog,
      bucketMinutes: this.bucketMinutes,
      violations: this.violations,
      emergencies: this.emergencies,
      ...(this.messageAge ? { messageAgeSeconds: this.messageAge } : {}),
    };
  }
}

const EMPTY_TIMELINE: Timeline = { ready: new Float64Array(0), tasks: new Float64Array(0), backlog: new Float64Array(0) };

/** One lane of the lockstep: a pool, its autoscaler (or the oracle), its counters. */
class LaneRun {
  readonly world: PoolWorld;
  readonly controller: Controller | undefined;
  private readonly oracleCeiling: number;
  taskMinutes = 0;
  violations = 0;
  peakBacklog = 0;
  scaleActions = 0;
  coldStarts = 0;
  launched = 0;
  peakAge = 0;
  ageAlarmMinutes = 0;
  private lagGrowthBefore = 0;
  readonly flaps: FlapCounter;
  /** Batch pools: the oldest message's age per minute, for the `oldestMessageAge` alarm. */
  private readonly ages: Ring | undefined;
  private backlog = 0;
  private emergenciesBefore = 0;
  private forecastBefore: ForecastCounters = NO_FORECAST_RUNS;

  constructor(
    readonly lane: Lane,
    traceStart: number,
    first: number,
    forecasts: ForecastCache,
    history: HourlyPeaks | undefined,
    readonly recorder: Recorder | undefined,
  ) {
    const { sim, policy } = lane;
    const { pool } = sim;
    const startupMinutes = policy === 'oracle' ? 0 : Math.max(1, Math.ceil(pool.startupSeconds / 60));
    // Every policy starts warm, as a running system would: enough capacity for the first minute
    // (within the limits), so no policy pays for a cold start the trace did not contain.
    const warm = Math.ceil(first / pool.capacityPerTask - 1e-9);
    const queue = sim.batch ? { queue: { maxMessageAgeSeconds: sim.batch.maxMessageAgeSeconds } } : {};
    this.world = new PoolWorld({ capacityPerTask: pool.capacityPerTask, startupMinutes, baseP95Ms: baseP95(sim), ...queue }, clamp(warm, pool.minCapacity, pool.maxCapacity));
    this.flaps = new FlapCounter(traceStart, sim.thrash.maxDirectionChangesPerHour);
    this.ages = sim.batch?.ageAlarm ? new Ring(sim.batch.ageAlarm.evaluationPeriods) : undefined;
    this.controller = policy === 'oracle' ? undefined : new Controller(traceStart, sim, policy, forecasts, history);
    this.oracleCeiling = oracleCeiling(sim);
  }

  startMeasuring(): void {
    [this.taskMinutes, this.violations, this.peakBacklog, this.scaleActions, this.coldStarts, this.launched, this.peakAge, this.ageAlarmMinutes] = [0, 0, 0, 0, 0, 0, 0, 0];
    this.flaps.reset();
    this.lagGrowthBefore = this.controller?.lagGrowthScaleOuts ?? 0;
    this.emergenciesBefore = this.controller?.emergencies ?? 0;
    this.forecastBefore = this.controller ? { ...this.controller.forecastRuns } : NO_FORECAST_RUNS;
  }

  step(m: number, rps: number): void {
    const { world, controller } = this;
    if (!controller) {
      const need = Math.ceil(minuteNeed(rps, this.backlog, this.lane.sim.pool.capacityPerTask) - 1e-9);
      const target = clamp(need, this.lane.sim.pool.minCapacity, this.oracleCeiling);
      if (target !== world.desired) {
        if (world.desired === 0 && target > 0) this.coldStarts++;
        this.scaleActions++;
        this.launched += world.setDesired(target, m);
      }
    }
    const state = world.step(m, rps);
    this.backlog = state.backlog;
    this.taskMinutes += state.tasks;
    if (state.violation) this.violations++;
    if (state.backlog > this.peakBacklog) this.peakBacklog = state.backlog;
    this.flaps.push(m, state.desired);
    if (state.messageAgeSeconds !== undefined) {
      if (state.messageAgeSeconds > this.peakAge) this.peakAge = state.messageAgeSeconds;
      const alarm = this.lane.sim.batch?.ageAlarm;
      if (alarm && this.ages) {
        this.ages.set(m, state.messageAgeSeconds);
        if (evaluateAlarm(alarm, this.ages, m) === 'ALARM') this.ageAlarmMinutes++;
      }
    }
    this.recorder?.record(m, state);
    if (controller) {
      const before = controller.emergencies;
      const next = controller.observe(m, state);
      if (this.recorder && controller.emergencies > before) this.recorder.emergencies.push(m + 1);
      if (next !== undefined && next !== world.desired) {
        if (world.desired === 0 && next > 0) this.coldStarts++;
        this.scaleActions++;
        this.launched += world.setDesired(next, m + 1);
      }
    }
  }

  run(measured: number): SimRun {
    this.flaps.finish();
    const c = this.controller;
    const f = c ? c.forecastRuns : NO_FORECAST_RUNS;
    const b = this.forecastBefore;
    const untrusted = f.notBacktested - b.notBacktested + (f.aboveMaxError - b.aboveMaxError);
    const above = f.aboveMaxError - b.aboveMaxError;
    const forecast: ForecastStats = {
      runs: f.runs - b.runs,
      noForecast: f.noForecast - b.noForecast,
      untrusted,
      notBacktested: f.notBacktested - b.notBacktested,
      aboveMaxError: above,
      ...(above > 0 ? { meanWape: (f.wapeSum - b.wapeSum) / above, maxWape: f.maxWape } : {}),
    };
    return {
      result: {
        taskMinutes: this.taskMinutes,
        violationMinutes: this.violations,
        peakBacklog: Math.round(this.peakBacklog),
        scaleActions: this.scaleActions,
        coldStarts: this.coldStarts,
        costUsd: Math.round((this.taskMinutes / 60) * this.lane.sim.usdPerTaskHour * 100) / 100,
        tasksLaunched: this.launched,
        emergencies: (c?.emergencies ?? 0) - this.emergenciesBefore,
        violationPercent: measured > 0 ? (100 * this.violations) / measured : 0,
        predictiveRuns: forecast.runs,
        forecastUntrustedRuns: untrusted,
        flaps: this.flaps.peak,
        flappingHours: this.flaps.flappingHours,
        ...(this.lane.sim.batch ? { peakMessageAgeSeconds: Math.round(this.peakAge), messageAgeAlarmMinutes: this.ageAlarmMinutes } : {}),
        ...(c?.lagGrowthScaleOuts !== undefined ? { lagGrowthScaleOuts: c.lagGrowthScaleOuts - this.lagGrowthBefore } : {}),
      },
      timeline: this.recorder?.timeline() ?? EMPTY_TIMELINE,
      forecast,
    };
  }
}

/**
 * Run every lane over one pass of the trace, minute by minute: each minute's
 * load is read once and stepped through every lane before the next is read.
 * Lanes share nothing that changes their decisions (the forecast cache holds
 * pure functions of the trace), so each lane's result is what it would be
 * alone.
 */
export function runLockstep(source: TraceStream, lanes: readonly Lane[], options: SimulateOptions = {}): LockstepRun {
  const n = source.minutes;
  const from = options.measureFrom ?? 0;
  if (!Number.isInteger(from) || from < 0 || (n > 0 && from >= n)) throw new Error(`measureFrom must be a minute within the trace (0..${n - 1}), got ${from}`);
  const forecasts = options.forecasts ?? new ForecastCache();
  const keepHours = Math.max(0, ...lanes.filter((l) => l.policy === 'mlscale' && predictiveActs(l.sim)).map((l) => l.sim.predictive.historyDays * 24));
  const history = keepHours > 0 ? new HourlyPeaks(source.start, keepHours) : undefined;
  const t = options.timeline ?? false;
  const bucket = t === false ? 0 : t === true ? 1 : Math.max(1, Math.floor(t.bucketMinutes));
  const loadTimeline = new Float64Array(bucket ? Math.ceil(n / bucket) : 0);
  let runs: LaneRun[] | undefined;
  const start = (first: number) => lanes.map((l) => new LaneRun(l, source.start, first, forecasts, history, bucket ? new Recorder(n, bucket, l.sim.batch !== undefined) : undefined));

  let m = 0;
  let peak = -Infinity;
  let sum = 0;
  const progress = options.onProgress;
  source.forEachMinute((rps) => {
    if (m >= n) throw new Error(`trace ${source.name}: more minutes than the ${n} announced`);
    runs ??= start(rps);
    if (m === from) for (const r of runs) r.startMeasuring();
    history?.push(m, rps);
    for (let i = 0; i < runs.length; i++) runs[i]!.step(m, rps);
    if (bucket === 1) loadTimeline[m] = rps;
    else if (bucket > 1 && rps > loadTimeline[Math.floor(m / bucket)]!) loadTimeline[Math.floor(m / bucket)] = rps;
    if (rps > peak) peak = rps;
    sum += rps;
    m++;
    if (progress && (m & 4095) === 0) progress(m, n);
  });
  if (m !== n) throw new Error(`trace ${source.name}: ${m} minutes read, ${n} announced`);
  runs ??= start(0);
  progress?.(n, n);
  return {
    runs: runs.map((r) => r.run(n - from)),
    minutes: n,
    load: { peakRps: Math.max(0, peak), meanRps: sum / Math.max(1, n), timeline: loadTimeline },
    buffers: {
      seriesMinutes: Math.max(0, ...runs.map((r) => r.controller?.seriesMinutes ?? 0)),
      hourlyPeaks: history?.capacity ?? 0,
      maxHolds: Math.max(0, ...runs.map((r) => r.controller?.maxHolds ?? 0)),
      forecasts: forecasts.size,
      timelinePoints: loadTimeline.length,
    },
  };
}

/** The predictive Lambda acts on this pool's forecast (forecast-and-scale). */
function predictiveActs(sim: SimPool): boolean {
  return sim.predictive.enabled && sim.predictive.mode === 'forecast-and-scale';
}

interface ForecastCounters {
  readonly runs: number;
  readonly noForecast: number;
  readonly notBacktested: number;
  readonly aboveMaxError: number;
  readonly wapeSum: number;
  readonly maxWape: number;
}
const NO_FORECAST_RUNS: ForecastCounters = { runs: 0, noForecast: 0, notBacktested: 0, aboveMaxError: 0, wapeSum: 0, maxWape: 0 };

const NO_HOLDS: readonly Hold[] = [];

/**
 * The autoscaler of the `target-tracking`, `target-tracking-cpu` and
 * `mlscale` policies: it sees the minute's datapoints and returns the desired
 * capacity for the next minute. For `mlscale` every actor writes holds
 * exactly as the Lambdas do (the emergency, the forecast, the schedules,
 * scale-to-zero's wake) and the same `reconcile` turns them into the limits
 * target tracking works within: what the simulator measures is what deploys.
 */
class Controller {
  private readonly cpu: Ring;
  private readonly lag: Ring;
  /** Requests served per second (the request-count metric). */
  private readonly served: Ring;
  private readonly queuePerTask: Ring;
  private readonly p95: Ring;
  private readonly p99: Ring;
  /** Pending work per minute (arrivals + backlog; a batch pool's visible messages): the scale-to-zero work metric. */
  private readonly work: Ring;
  private readonly ready: Ring;
  /** Batch pools: messages in flight (the reconciler's `inFlight` signal) and the oldest message's age. */
  private readonly inFlight: Ring | undefined;
  private readonly age: Ring | undefined;
  /** Lag growth per second (RATE of the lag), for the lag-growth step policy. */
  private readonly growth: Ring | undefined;
  private readonly tracking: TargetTracking;
  private readonly lagGrowth: LagGrowthScaling | undefined;
  /** mlscale's step scale-in (scaleInMinutes under 15): target tracking then only scales out. */
  private readonly scaleIn: StepScaleIn | undefined;
  private readonly batch: boolean;
  private readonly full: boolean;
  private readonly toZero: boolean;
  private readonly drain: DrainSpec | undefined;
  private readonly schedules: Schedules;
  /** When the schedule holds can change: every planned event's start (less lead) and end (plus cooldown). */
  private readonly scheduleBounds: readonly number[];
  private readonly scheduleUsesReference: boolean;

  /** The holds the actors have written, by holder (with the holder's kind). */
  private readonly holds = new Map<string, { readonly hold: Hold; readonly kind: HolderKind | undefined }>();
  /** What the reconciler last registered. */
  private limits: { min: number; max: number; suspension: Suspension };
  private incident: { holder: string; okMinutes: number } | undefined;
  private alarmWasFiring = false;
  /** The backlog signal of the minute being decided (the emergency and the drain read the same datapoints). */
  private signal: BacklogSignal | undefined;
  private scheduled: { until: number; reference: number; holds: readonly Hold[] } | undefined;
  private reconciled: { active: Hold[]; desired: number; min: number; max: number; suspension: Suspension; idle: boolean | undefined; idleReason: string | undefined; r: Reconciliation } | undefined;
  emergencies = 0;
  /** Runs of the predictive Lambda, and why it did not act on the forecast. */
  forecastRuns: ForecastCounters = NO_FORECAST_RUNS;
  /** Most holds held at once. */
  maxHolds = 0;

  constructor(
    private readonly traceStart: number,
    private readonly sim: SimPool,
    policy: Exclude<PolicyName, 'oracle'>,
    private readonly forecasts: ForecastCache,
    private readonly history: HourlyPeaks | undefined,
  ) {
    const { pool, thresholds, tunables } = sim;
    this.full = policy === 'mlscale';
    this.batch = pool.kind === 'batch';
    // A batch pool goes to zero on the same wake/idle rules (the reconciler treats both kinds alike).
    this.toZero = pool.kind === 'scale-to-zero' || this.batch;
    this.limits = { min: pool.minCapacity, max: pool.maxCapacity, suspension: NOT_SUSPENDED };

    // The rings keep the longest lookback any reader has: target tracking's 15 datapoints, the emergency
    // alarms' evaluation periods, the scale-to-zero window (+1), the backlog's previous datapoint; each
    // seen METRIC_DELAY_MINUTES late (the newest datapoint read at minute m is m − 1).
    const alarms = this.full && sim.emergency.enabled ? sim.emergency.alarms.map((a) => a.evaluationPeriods) : [];
    const idle = this.full && this.toZero ? lookbackMinutes({ idleMinutes: tunables.idleMinutes }) + 1 : 0;
    const minutes = METRIC_DELAY_MINUTES + Math.max(LOW_DATAPOINTS, HIGH_DATAPOINTS, idle, 2, ...alarms);
    const ring = () => new Ring(minutes);
    [this.cpu, this.lag, this.served, this.queuePerTask, this.p95, this.p99, this.work, this.ready] = [ring(), ring(), ring(), ring(), ring(), ring(), ring(), ring()];
    this.inFlight = this.batch ? ring() : undefined;
    this.age = this.batch ? ring() : undefined;
    const growth = this.full ? lagGrowthOf(sim) : undefined;
    this.growth = growth ? ring() : undefined;
    this.lagGrowth = growth ? new LagGrowthScaling(growth, this.growth!) : undefined;

    const metrics: TrackedMetric[] = [];
    let step: StepPolicy | undefined;
    if (policy === 'target-tracking-cpu') {
      // AWS's default ECS service autoscaling: one CPU target tracking policy, whatever the pool.
      metrics.push({ name: 'CPU', target: thresholds.cpuPercent, series: this.cpu });
    } else if (pool.kind === 'always-on') {
      // With mlscale's step scale-in, every target tracking policy has DisableScaleIn: the step policy removes tasks.
      const stepIn = this.full && usesStepScaleIn(tunables.scaleInMinutes);
      const cpuTarget = this.full ? tunables.cpuPercent : thresholds.cpuPercent;
      metrics.push({ name: 'CPU', target: cpuTarget, series: this.cpu, scaleOutOnly: stepIn });
      // mlscale sizes scale-out on the lag to what drains it (the drain floor below) instead of tracking total lag,
      // unless the pool asks for AWS target tracking on lag.
      const lagTracked = pool.trackConsumerLag && (!this.full || pool.lagScaling === 'target-tracking');
      if (lagTracked) metrics.push({ name: 'ConsumerLag', target: thresholds.consumerLag, series: this.lag, scaleOutOnly: stepIn });
      if (stepIn) {
        const policy = { cpuTarget, minutes: tunables.scaleInMinutes, cooldownSeconds: stepScaleInCooldownSeconds(tunables.scaleInCooldownSeconds, pool.stopTimeoutSeconds), ...(lagTracked ? { lagTarget: thresholds.consumerLag } : {}) };
        this.scaleIn = new StepScaleIn(policy, this.cpu, this.ready, this.lag);
      }
    } else {
      // A batch pool tracks its visible messages per running task at messagesPerTask (min 0, as configured).
      metrics.push({ name: this.batch ? 'backlog per task' : 'queue per task', target: pool.kind === 'batch' ? pool.messagesPerTask : thresholds.queueDepthPerTask, series: this.queuePerTask });
      if (pool.kind === 'demand') step = { series: this.p99, threshold: thresholds.cpuModuleP99Ms, steps: [20, 50] };
    }
    const out = this.full ? tunables.scaleOutCooldownSeconds : pool.scaleOutCooldownSeconds;
    const inn = this.full ? tunables.scaleInCooldownSeconds : pool.scaleInCooldownSeconds;
    this.tracking = new TargetTracking(metrics, { scaleOutCooldownMinutes: out / 60, scaleInCooldownMinutes: inn / 60 }, this.ready, step);

    // The drain settings the targets document gives an always-on pool that scales on lag (tunables applied).
    this.drain =
      pool.kind === 'always-on' && pool.trackConsumerLag && pool.lagScaling === 'drain'
        ? { capacityPerTask: pool.capacityPerTask, targetUtilization: tunables.cpuPercent / 100, drainSeconds: tunables.drainSeconds, startupSeconds: pool.startupSeconds, backlogThreshold: thresholds.consumerLag }
        : undefined;
    this.schedules = { name: pool.name, plannedEvents: sim.plannedEvents, peakHours: sim.peakHours };
    // The same bounds scheduleHolds compares `now` with (lambdas/core/schedules.ts).
    this.scheduleBounds = sim.plannedEvents.flatMap((e) => [Date.parse(e.start) - e.leadMinutes * MINUTE, Date.parse(e.end) + e.cooldownMinutes * MINUTE]);
    this.scheduleUsesReference = sim.plannedEvents.some((e) => e.replicas === undefined);
  }

  /** Times the lag-growth step policy raised desired (undefined without the policy). */
  get lagGrowthScaleOuts(): number | undefined {
    return this.lagGrowth?.actions;
  }

  /** Minutes each datapoint ring keeps. */
  get seriesMinutes(): number {
    return this.cpu.capacity;
  }

  private time(minute: number): number {
    return this.traceStart + minute * MINUTE;
  }

  private put(h: Hold): void {
    this.holds.set(h.holder, { hold: h, kind: holderKind(h.holder) });
  }

  observe(m: number, s: MinuteState): number | undefined {
    this.cpu.set(m, s.cpu);
    this.lag.set(m, s.queueDepth);
    this.served.set(m, s.servedRps);
    if (this.batch) {
      // IF(running > 0, visible / running, visible): running tasks include those finishing a message.
      const running = s.ready + (s.draining ?? 0);
      this.queuePerTask.set(m, running > 0 ? s.queueDepth / running : s.queueDepth);
      // The queue's metrics: visible messages wake the pool, messages in flight keep it up.
      this.work.set(m, s.queueDepth);
      this.inFlight!.set(m, s.inFlight ?? 0);
      this.age!.set(m, s.messageAgeSeconds ?? 0);
    } else {
      this.queuePerTask.set(m, s.ready > 0 ? s.queueDepth / s.ready : s.queueDepth);
      // Work pending during the minute: what arrived plus what waited.
      this.work.set(m, s.backlog + s.loadRps * 60);
    }
    this.p95.set(m, s.p95Ms);
    this.p99.set(m, s.p99Ms);
    this.ready.set(m, s.ready);
    if (this.growth) {
      // RATE(lag): the change per second since the previous datapoint (none for the first).
      const previous = m > 0 ? this.lag.get(m - 1) : undefined;
      this.growth.set(m, previous === undefined ? undefined : (s.queueDepth - previous) / 60);
    }

    const { pool } = this.sim;
    const next = m + 1;
    let desired = s.desired;
    let min = pool.minCapacity;
    let max = pool.maxCapacity;
    let scaleInSuspended = false;
    if (this.full) {
      const now = this.time(next);
      this.signal = this.backlogAt(next);
      this.runEmergency(next, s, now);
      this.runDrain(s, now);
      this.runPredictive(now);
      let idle: { idle: boolean; reason: string } | undefined;
      if (this.toZero) idle = this.runScaleToZero(next, s, now);
      const holds: Hold[] = [];
      let forecastFloor = 0;
      for (const [holder, { hold, kind }] of this.holds) {
        if (hold.expiresAt * 1000 > now) {
          holds.push(hold);
          if (kind === 'predictive' && isActive(hold, now)) forecastFloor = Math.max(forecastFloor, hold.floor ?? 0);
        } else {
          this.holds.delete(holder);
        }
      }
      if (this.holds.size > this.maxHolds) this.maxHolds = this.holds.size;
      for (const h of this.scheduleHoldsAt(now, Math.max(pool.minCapacity, forecastFloor))) holds.push(h);
      const r = this.reconcileAt(holds, desired, now, idle);
      const l = this.limits;
      if (l.min !== r.min || l.max !== r.max || l.suspension !== r.suspension) this.limits = { min: r.min, max: r.max, suspension: r.suspension };
      desired = r.desired;
      min = r.min;
      max = r.max;
      scaleInSuspended = r.suspension.dynamicIn;
    } else {
      // The operator's planned events and peak hours, as the native build has them: scheduled actions that raise
      // MinCapacity for the same windows (docs/simulator.md), so both sides carry the floor the operator asked for.
      for (const h of this.scheduleHoldsAt(this.time(next), pool.minCapacity)) {
        if (h.floor !== undefined && isActive(h, this.time(next))) min = Math.min(max, Math.max(min, h.floor));
      }
    }
    let tt = this.tracking.decide(next, desired, scaleInSuspended);
    // A target tracking scale-out ends the step scale-in's cooldown too.
    if (tt && tt.desired > desired) this.scaleIn?.scaleOutHappened();
    // The step scale-in acts only when nothing asks for more (its alarm and a scale-out alarm cannot both be in ALARM
    // on the same CPU datapoints), and not while dynamic scale-in is suspended.
    else if (this.scaleIn && !tt) tt = this.scaleIn.decide(next, clamp(desired, min, max), min, scaleInSuspended);
    // The lag-growth step policy asks from the same current capacity as target tracking: the largest ask is carried out.
    const grown = this.lagGrowth?.decide(next, desired);
    const tracked = tt ? tt.desired : desired;
    // Application Auto Scaling keeps desired within the registered limits.
    if (grown && clamp(grown.desired, min, max) > clamp(tracked, min, max)) {
      this.lagGrowth!.applied(next, desired);
      // Its scale-out ends any scale-in cooldown, as target tracking's does.
      this.tracking.scaleOutHappened();
      this.scaleIn?.scaleOutHappened();
      return clamp(grown.desired, min, max);
    }
    return clamp(tracked, min, max);
  }

  /**
   * `scheduleHolds` at `now`, computed again only when `now` passes a planned
   * event's bound (or the reference a multiplier event scales changes): in
   * between its answer cannot change. Peak hours (cron windows) are asked
   * every minute.
   */
  private scheduleHoldsAt(now: number, reference: number): readonly Hold[] {
    const s = this.schedules;
    if (s.plannedEvents.length === 0 && s.peakHours.length === 0) return NO_HOLDS;
    if (s.peakHours.length > 0) return scheduleHolds(s, now, reference);
    const c = this.scheduled;
    if (c && now < c.until && (!this.scheduleUsesReference || c.reference === reference)) return c.holds;
    let until = Infinity;
    for (const b of this.scheduleBounds) if (b > now && b < until) until = b;
    const holds = scheduleHolds(s, now, reference);
    this.scheduled = { until, reference, holds };
    return holds;
  }

  /**
   * `reconcile`, asked again only when its answer can differ: it depends on
   * `now` only through which holds are active, so the same active holds, the
   * same observed state and the same idle verdict give the same answer.
   */
  private reconcileAt(holds: readonly Hold[], desired: number, now: number, idle: { idle: boolean; reason: string } | undefined): Reconciliation {
    const active = holds.filter((h) => isActive(h, now));
    const p = this.reconciled;
    const { min, max, suspension } = this.limits;
    if (
      p &&
      p.desired === desired &&
      p.min === min &&
      p.max === max &&
      p.suspension.dynamicIn === suspension.dynamicIn &&
      p.suspension.dynamicOut === suspension.dynamicOut &&
      p.suspension.scheduled === suspension.scheduled &&
      p.idle === idle?.idle &&
      p.idleReason === idle?.reason &&
      p.active.length === active.length &&
      p.active.every((h, i) => h === active[i])
    ) {
      return p.r;
    }
    const { pool } = this.sim;
    const r = reconcile({
      configured: { min: pool.minCapacity, max: pool.maxCapacity, ceiling: this.sim.emergency.enabled ? this.sim.emergency.ceiling : pool.maxCapacity, scaleToZero: this.toZero && pool.minCapacity === 0 },
      holds,
      observed: { desired, min, max, suspension, registered: true },
      now,
      ...(idle ? { idle } : {}),
    });
    this.reconciled = { active, desired, min, max, suspension, idle: idle?.idle, idleReason: idle?.reason, r };
    return r;
  }

  /** Scale-to-zero's wake hold, as the reconciler writes it; returns the idle verdict for the pass. */
  private runScaleToZero(minute: number, s: MinuteState, now: number): { idle: boolean; reason: string } {
    const { pool, tunables } = this.sim;
    const lookback = lookbackMinutes({ idleMinutes: tunables.idleMinutes });
    const points = [];
    const inFlight = [];
    const newest = minute - METRIC_DELAY_MINUTES;
    for (let k = Math.max(0, newest - lookback); k <= newest; k++) {
      points.push({ t: this.time(k), v: this.work.get(k)! });
      if (this.inFlight) inFlight.push({ t: this.time(k), v: this.inFlight.get(k)! });
    }
    const toZero = scalesToZero(pool) ? pool : undefined;
    const spec = {
      name: pool.name,
      idleMinutes: tunables.idleMinutes,
      scaleFromZeroTo: toZero ? toZero.scaleFromZeroTo : 1,
    };
    // A batch pool's in-flight messages (ApproximateNumberOfMessagesNotVisible): never to zero mid-message.
    const state = workState(
      { work: { points }, ...(this.inFlight ? { inFlight: { points: inFlight } } : {}) },
      { idleMinutes: tunables.idleMinutes, missingDataIsIdle: toZero ? toZero.missingDataIsIdle : false, gpuIdlePercent: toZero && 'gpuIdlePercent' in toZero ? toZero.gpuIdlePercent : DEFAULTS.scaleToZero.gpuIdlePercent },
      now,
    );
    const wake = wakeHold(spec, state, s.desired, this.holds.get('wake')?.hold, now);
    // Before the trace there are no datapoints; a pool whose missing data counts as idle would read the
    // warm start as idle and drop to zero in its first minute. Idleness needs idleMinutes of the trace.
    const verdict = newest - tunables.idleMinutes + 1 < 0 ? { idle: false, reason: 'fewer datapoints than idleMinutes since the trace began' } : idleVerdict({}, state);
    if (wake) this.put(wake);
    else if (verdict.idle) this.holds.delete('wake');
    return verdict;
  }

  /** The simulated datapoints an alarm kind watches. */
  private seriesFor(kind: AlarmSpec['kind']): Series {
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
      case 'oldestMessageAge':
        return this.age ?? NO_DATAPOINTS;
      default:
        return NO_DATAPOINTS;
    }
  }

  /** What the metrics say of the backlog at the newest datapoint the controller can see. */
  private backlogAt(minute: number): BacklogSignal | undefined {
    const newest = minute - METRIC_DELAY_MINUTES;
    const backlog = this.lag.get(newest);
    if (newest < 0 || backlog === undefined) return undefined;
    const processedPerSecond = this.served.get(newest)!;
    return {
      observation: newest > 0 ? { backlog, previousBacklog: this.lag.get(newest - 1)!, processedPerSecond } : { backlog, processedPerSecond },
      ready: this.ready.get(newest)!,
    };
  }

  /** The reconciler's drain floor (lambdas/core/drain.ts), renewed while the backlog needs it. */
  private runDrain(s: MinuteState, now: number): void {
    if (!this.drain) return;
    const hold = drainHold(this.sim.pool.name, this.drain, this.signal, Math.max(s.desired, this.sim.pool.minCapacity), this.sim.pool.maxCapacity, now);
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
    const signal = this.signal;
    const drain = this.drain;
    if (this.incident) {
      this.incident.okMinutes = firing ? 0 : this.incident.okMinutes + 1;
      const watch = watchIncident(this.holds.get(this.incident.holder)!.hold, signal, drain, pool.maxCapacity, emergency.ceiling, !firing);
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
  private runPredictive(now: number): void {
    const { sim } = this;
    if (!predictiveActs(sim)) return;
    const period = sim.predictive.scheduleMinutes * MINUTE;
    if (now % period !== 0) return;
    const f = this.forecastRuns;
    const origin = forecastOrigin(now);
    const fitted = this.forecasts.get(origin, () => this.fit(origin));
    if (!fitted) {
      this.forecastRuns = { ...f, runs: f.runs + 1, noForecast: f.noForecast + 1 };
      return;
    }
    const trust = forecastTrust(fitted, sim.predictive.maxError);
    if (!trust.trusted) {
      this.forecastRuns =
        fitted.wape === undefined
          ? { ...f, runs: f.runs + 1, notBacktested: f.notBacktested + 1 }
          : { ...f, runs: f.runs + 1, aboveMaxError: f.aboveMaxError + 1, wapeSum: f.wapeSum + fitted.wape, maxWape: Math.max(f.maxWape, fitted.wape) };
      return;
    }
    this.forecastRuns = { ...f, runs: f.runs + 1 };
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

  /** What the predictive Lambda fits at `origin`: hourly peaks of up to 14 days before it. */
  private fit(origin: number): FittedForecast | null {
    const { sim, history } = this;
    if (!history) return null;
    const end = Math.floor((origin - history.start) / HOUR);
    const hours = Math.min(end, sim.predictive.historyDays * 24);
    // A window shorter than a day cannot hold a day of hours with data.
    if (hours < MIN_HISTORY_HOURS) return null;
    const series = { start: origin - hours * HOUR, values: history.window(end, hours) };
    // The Lambda's rule (lambdas/core/forecast.ts): a day of hours with data, or no forecast.
    if (!enoughHistory(series)) return null;
    return fitForecast(series, origin, sim.predictive.horizonHours);
  }
}

const NO_DATAPOINTS: Series = { get: () => undefined };

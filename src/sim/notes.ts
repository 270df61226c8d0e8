/**
 * The `notes` of a simulation: what the reader must know to trust (or not)
 * the numbers — the trace was rescaled, coarse rows interpolated, gaps
 * filled, the load beyond what the pool can ever serve (then the oracle is no
 * lower bound), the forecast not trusted, the tuning verdict. The CLI prints
 * them under the table, puts them in the JSON and on the HTML page.
 */
import type { Comparison } from './compare';
import type { FlapCure } from './flaps';
import type { PolicyName } from './simulate';
import type { SimPool } from './sim-config';
import { INTERPOLATE_ABOVE_SECONDS } from './trace';
import { configPath, tuningVerdict, type TuneResult } from './tune';
import { scalesToZero } from '../../lambdas/core/config/pool-kind';
import { SCALE_IN_LOW_FRACTION, TARGET_TRACKING_SCALE_IN_MINUTES, usesStepScaleIn } from '../../lambdas/core/scale-in';

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const num = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** 1800 → "30 minutes", 30 → "30 seconds". */
export function intervalText(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
  return `${num(seconds)} seconds`;
}

/** 1800 → "30-minute", 30 → "30-second". */
export function intervalAdjective(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}-hour`;
  if (seconds % 60 === 0) return `${seconds / 60}-minute`;
  return `${num(seconds)}-second`;
}

/** What a pool's load is counted in: a batch pool's trace is messages arriving per second. */
export function loadUnit(kind: string): string {
  return kind === 'batch' ? 'msg/s' : 'req/s';
}

const minutesText = (m: number) => (m >= 120 && m % 60 === 0 ? `${m / 60} hours` : `${int(m)} minute${m === 1 ? '' : 's'}`);

/** The notes on the trace, the pool and the forecast. */
export function simulationNotes(c: Comparison, sim: SimPool, policies: readonly PolicyName[]): string[] {
  const notes: string[] = [];
  const { pool } = sim;
  const perTask = pool.capacityPerTask;
  const t = c.trace;
  const unit = loadUnit(pool.kind);

  if (t.rescale) {
    const r = t.rescale;
    notes.push(
      `Trace rescaled ×${r.factor.toPrecision(4)}: its busiest minute (${num(r.rawPeak)} in the file's units) becomes ${num(t.peakRps)} ${unit}, ` +
        `${r.fraction} × the pool's full capacity (${pool.maxCapacity} tasks × ${num(perTask)} ${unit} = ${num(r.fullCapacityRps)} ${unit}).`,
    );
  }
  if (t.interpolated) {
    notes.push(
      `The trace's rows are ${intervalText(t.intervalSeconds)} apart: each minute is interpolated linearly between them (each row is its interval's mean rate, placed at the interval's middle), ` +
        `not held as ${intervalAdjective(t.intervalSeconds)} steps (rows ${intervalText(INTERPOLATE_ABOVE_SECONDS)} apart or closer are held).`,
    );
  }
  if (t.gapsFilled > 0) {
    notes.push(
      `${int(t.gapsFilled)} missing row${t.gapsFilled === 1 ? '' : 's'} of the ${intervalAdjective(t.intervalSeconds)} series (${minutesText(t.gapMinutes)} without data; the longest gap ${minutesText(t.largestGapMinutes)}) ` +
        `${t.interpolated ? 'interpolated across' : 'filled by holding the previous value'}.`,
    );
  }

  const ceiling = sim.emergency.enabled ? Math.max(sim.emergency.ceiling, pool.maxCapacity) : pool.maxCapacity;
  const ceilingRps = ceiling * perTask;
  const maxRps = pool.maxCapacity * perTask;
  if (sim.batch) {
    const b = sim.batch;
    notes.push(
      `Batch pool: the trace is messages arriving per second on its queue; a violation minute is one whose oldest waiting message is older than maxMessageAgeSeconds (${int(b.maxMessageAgeSeconds)} s)` +
        (b.ageAlarm ? `, and messageAgeAlarmMinutes counts the minutes the oldestMessageAge alarm (${b.ageAlarm.datapointsToAlarm} of ${b.ageAlarm.evaluationPeriods} minutes) would be in ALARM` : '') +
        `. Backlog is visible messages; a task works on one message at a time and finishes it before scale-in stops it.`,
    );
    if (t.peakRps > maxRps) {
      notes.push(
        `The peak arrival rate, ${num(t.peakRps)} ${unit}, is above what max capacity serves (${pool.maxCapacity} tasks × ${num(perTask)} ${unit} = ${num(maxRps)} ${unit}): the queue holds the rest` +
          (c.policies.oracle.violationMinutes > 0
            ? `, and messages wait longer than ${int(b.maxMessageAgeSeconds)} s even for the oracle (${int(c.policies.oracle.violationMinutes)} violation minutes): the oracle is no lower bound for those minutes.`
            : '; the oracle still keeps every message within its age limit.'),
      );
    }
  } else if (t.peakRps > ceilingRps) {
    notes.push(
      `The peak load, ${num(t.peakRps)} req/s, is above what the pool can ever serve: ${sim.emergency.enabled ? 'the emergency ceiling' : 'max capacity'} ${ceiling} tasks × ${num(perTask)} req/s = ${num(ceilingRps)} req/s. ` +
        `Every policy misses the SLO there, the oracle too (${int(c.policies.oracle.violationMinutes)} violation minutes): the oracle is no lower bound for those minutes.`,
    );
  } else if (t.peakRps > maxRps) {
    notes.push(
      `The peak load, ${num(t.peakRps)} req/s, is above max capacity (${pool.maxCapacity} tasks × ${num(perTask)} req/s = ${num(maxRps)} req/s) but within the emergency ceiling (${ceiling} tasks): ` +
        'only an emergency raise (mlscale) or the oracle serves it without a backlog.',
    );
  }

  const f = c.forecast;
  if (f && policies.includes('mlscale') && sim.predictive.enabled && sim.predictive.mode === 'forecast-and-scale' && f.runs > 0) {
    const trusted = f.runs - f.noForecast - f.untrusted;
    if (trusted === f.runs) {
      notes.push(`mlscale acted on the forecast in all ${int(f.runs)} predictive runs (backtest error within ${pct(sim.predictive.maxError)}).`);
    } else {
      const parts = [
        f.noForecast ? `${int(f.noForecast)} had no forecast (under 24 hours of history)` : '',
        f.notBacktested ? `${int(f.notBacktested)} had a forecast not yet backtested (under five days of history)` : '',
        f.aboveMaxError
          ? `${int(f.aboveMaxError)} had a backtest error above ${pct(sim.predictive.maxError)} (mean ${pct(f.meanWape ?? 0)}, up to ${pct(f.maxWape ?? 0)})`
          : '',
      ].filter(Boolean);
      notes.push(
        `Forecast ${f.noForecast ? 'missing or ' : ''}not trusted in ${int(f.runs - trusted)} of ${int(f.runs)} predictive runs: ${parts.join(', ')}; in those hours mlscale scaled reactively only ` +
          `(the predictive Lambda acts on a forecast only when its backtest error over the last three days is at most ${pct(sim.predictive.maxError)}).`,
      );
    }
  }

  if (lagGrowthOn(sim) && policies.includes('mlscale')) {
    const n = c.policies.mlscale.lagGrowthScaleOuts ?? 0;
    notes.push(`mlscale includes the lag-growth step policy (scaleOnLagGrowth): it raised desired capacity ${int(n)} time${n === 1 ? '' : 's'} (target tracking and the baselines do not have it).`);
  }

  if (pool.kind === 'always-on' && usesStepScaleIn(sim.tunables.scaleInMinutes) && policies.includes('mlscale')) {
    notes.push(
      `mlscale scales in with its step policy after ${int(sim.tunables.scaleInMinutes)} minutes below ${SCALE_IN_LOW_FRACTION * 100} % of the CPU target (scaleInMinutes; target tracking only scales out); ` +
        `the baselines keep target tracking's own scale-in (${TARGET_TRACKING_SCALE_IN_MINUTES} of ${TARGET_TRACKING_SCALE_IN_MINUTES} datapoints).`,
    );
  }

  // Planned events whose raised window (lead to cooldown) falls within the trace; peak hours recur.
  const from = Date.parse(t.start);
  const to = from + c.minutes * 60_000;
  const events = sim.plannedEvents.filter((e) => Date.parse(e.start) - e.leadMinutes * 60_000 < to && Date.parse(e.end) + e.cooldownMinutes * 60_000 > from);
  if (events.length + sim.peakHours.length > 0 && policies.some((p) => p === 'target-tracking' || p === 'target-tracking-cpu')) {
    const what = [
      ...(events.length ? [`${events.length} planned event${events.length === 1 ? '' : 's'}`] : []),
      ...(sim.peakHours.length ? [`${sim.peakHours.length} peak-hour window${sim.peakHours.length === 1 ? '' : 's'}`] : []),
    ].join(' and ');
    notes.push(`The baselines carry the config's ${what} as a native build would: scheduled actions that raise MinCapacity for the same windows (mlscale holds them as schedule holds).`);
  }

  if (policies.includes('target-tracking-cpu') && pool.minCapacity === 0) {
    notes.push(
      'target-tracking-cpu keeps the pool\'s min capacity 0: at zero tasks there is no CPU datapoint, so once it has scaled in to zero it never scales out again (Application Auto Scaling needs a datapoint of its metric).',
    );
  }

  return notes;
}

/** The notes on the tuning: its verdict, and every grid it searched beyond. */
export function tuningNotes(tuned: TuneResult): string[] {
  const notes = [`Tuning: ${tuningVerdict(tuned).reason}`];
  for (const e of tuned.extended ?? []) {
    if (e.tried.length === 0) continue;
    notes.push(
      `Tuning: the best ${configPath(e.key, 0).replace(/^pools\[0\]\./, '')} sat on the ${e.edge} edge of its grid (${e.from}); searched beyond it in steps of ${e.step}: ${e.tried.join(', ')} ` +
        `(${e.stopped === 'bound' ? 'stopped at the sane bound' : 'stopped at the first value that did no better'}); chosen ${tuned.tunables[e.key]}.`,
    );
  }
  return notes;
}

const lagGrowthOn = (sim: SimPool) => sim.pool.kind === 'always-on' && sim.pool.scaleOnLagGrowth;

const secondsText = (s: number) => `${int(s)} s`;

/**
 * The notes on thrashing: each policy that flaps (more reversals of desired
 * capacity in an hour than thrash.maxDirectionChangesPerHour), and the
 * shortest scale-in cooldown of the grid that stops it, or that none does.
 */
export function flapNotes(cures: readonly FlapCure[], sim: SimPool): string[] {
  const max = sim.thrash.maxDirectionChangesPerHour;
  return cures.map((f) => {
    const head =
      `${f.policy} flaps: its desired capacity reversed direction up to ${int(f.flaps)} times in an hour (thrash.maxDirectionChangesPerHour is ${max}` +
      `${f.flappingHours ? `; ${int(f.flappingHours)} hour${f.flappingHours === 1 ? '' : 's'} of the trace over it` : ''}) with a scale-in cooldown of ${secondsText(f.scaleInCooldownSeconds)}`;
    if (f.tried.length === 0) return `${head}; no longer cooldown on the grid to try (the longest is 1,800 s): widen the scale-in threshold or lower the target instead.`;
    const cure = f.tried.find((t) => t.scaleInCooldownSeconds === f.cure);
    if (cure) {
      return (
        `${head}; scaleInCooldownSeconds ${int(cure.scaleInCooldownSeconds)} stops it (at most ${int(cure.flaps)} reversal${cure.flaps === 1 ? '' : 's'} an hour; ` +
        `${int(cure.taskMinutes)} task-minutes and ${int(cure.violationMinutes)} violation minutes instead of ${int(f.taskMinutes)} and ${int(f.violationMinutes)}).`
      );
    }
    const last = f.tried[f.tried.length - 1]!;
    const why =
      f.policy === 'mlscale' && scalesToZero(sim.pool)
        ? 'it goes to zero on the idle rule, which no scale-in cooldown delays: lengthen idleMinutes instead'
        : // A scale-out ends a running scale-in cooldown (AWS, ScaleInCooldown), so a longer one only spaces scale-ins
          // that follow each other; reversals that follow the load's own bursts need room, not time.
          "a scale-out ends a running scale-in cooldown, so a longer one only spaces scale-ins that follow each other: lower the CPU target (thresholds.cpuPercent) or, for mlscale's step scale-in, raise scaleInMinutes";
    return `${head}; none of the scale-in cooldowns ${f.tried.map((t) => int(t.scaleInCooldownSeconds)).join(', ')} s stops it (still ${int(last.flaps)} reversals an hour at ${secondsText(last.scaleInCooldownSeconds)}): ${why}.`;
  });
}

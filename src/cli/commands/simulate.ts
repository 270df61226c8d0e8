import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { type Command, Option } from 'commander';
import { compare, type Comparison } from '../../sim/compare';
import { flapCures, type FlapCure } from '../../sim/flaps';
import { htmlReport } from '../../sim/html';
import { flapNotes, loadUnit, simulationNotes, tuningNotes } from '../../sim/notes';
import { minutesProgress, progressLine } from '../../sim/progress';
import { simPoolFrom, type SimPool } from '../../sim/sim-config';
import { ForecastCache, POLICIES, type PolicyName } from '../../sim/simulate';
import { materialize, openTraceFile, rescaleStream, streamOf, type MinuteTrace, type TraceStream } from '../../sim/trace';
import { tune, tuningVerdict, type TuneResult } from '../../sim/tune';
import { chooseEnvironment, DEFAULT_CONFIG, loadConfig } from '../context';
import { CliError } from '../errors';
import { printDocument } from '../output';
import { simulationTable } from '../sim-table';
import { TARGET_TRACKING_SCALE_IN_MINUTES } from '../../../lambdas/core/scale-in';

/** The trace `npm start` replays: one synthetic day shipped with the repo. */
export const BUNDLED_TRACE = path.join(__dirname, '..', '..', '..', 'traces', 'synthetic-day.csv');

interface SimulateOptions {
  trace: string;
  config?: string;
  env?: string;
  pool?: string;
  policy: string;
  peakUtilization?: string;
  /** `--json` is kept as `-o json`. */
  json?: boolean;
  output: 'table' | 'wide' | 'json' | 'yaml' | 'name';
  html?: string;
  tune?: boolean;
  maxViolationPercent: string;
  lagGrowth?: string;
  scaleInMinutes?: string;
}

function parsePolicies(text: string): PolicyName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(POLICIES as readonly string[]).includes(n)) throw new CliError(`--policy: unknown policy '${n}' (choose from ${POLICIES.join(', ')})`);
  }
  if (names.length === 0) throw new CliError(`--policy: give at least one of ${POLICIES.join(', ')}`);
  return names as PolicyName[];
}

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${flag} must be a number > 0, got '${text}'`);
  return n;
}

/** `--lag-growth on|off`: the config's scaleOnLagGrowth of the simulated always-on pool, overridden. */
function withLagGrowth(sim: SimPool, text: string | undefined): SimPool {
  if (text === undefined) return sim;
  if (text !== 'on' && text !== 'off') throw new CliError(`--lag-growth must be on or off, got '${text}'`);
  if (sim.pool.kind !== 'always-on') {
    throw new CliError(`--lag-growth: pool '${sim.pool.name}' is a ${sim.pool.kind} pool; lag growth scales an always-on pool on its Kafka lag`);
  }
  return { ...sim, pool: { ...sim.pool, scaleOnLagGrowth: text === 'on' } };
}

/** `--scale-in-minutes N`: the config's scaleInMinutes of the simulated always-on pool, overridden (1-15). */
function withScaleInMinutes(sim: SimPool, text: string | undefined): SimPool {
  if (text === undefined) return sim;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > TARGET_TRACKING_SCALE_IN_MINUTES) {
    throw new CliError(`--scale-in-minutes must be a whole number from 1 to ${TARGET_TRACKING_SCALE_IN_MINUTES} (${TARGET_TRACKING_SCALE_IN_MINUTES}: target tracking's own scale-in), got '${text}'`);
  }
  if (sim.pool.kind !== 'always-on') {
    throw new CliError(`--scale-in-minutes: pool '${sim.pool.name}' is a ${sim.pool.kind} pool; the step scale-in is an always-on pool's (CPU)`);
  }
  return { ...sim, pool: { ...sim.pool, scaleInMinutes: n }, tunables: { ...sim.tunables, scaleInMinutes: n } };
}

/** The JSON document of DESIGN.md ("Simulator output"), plus the ratios, the trace, the notes and the forecast's trust. */
export function simulationJson(
  c: Comparison,
  policies: readonly PolicyName[],
  tuned?: TuneResult,
  notes: readonly string[] = [],
  thrash?: { readonly maxDirectionChangesPerHour: number; readonly flapping: readonly FlapCure[] },
): Record<string, unknown> {
  const pick = (p: PolicyName) => c.policies[p];
  const verdict = tuned ? tuningVerdict(tuned) : undefined;
  return {
    minutes: c.minutes,
    pool: c.pool,
    trace: c.trace,
    policies: Object.fromEntries(policies.map((p) => [p, pick(p)])),
    notes,
    ...(thrash ? { thrash } : {}),
    ...(c.forecast && policies.includes('mlscale') ? { forecast: c.forecast } : {}),
    ...(tuned && verdict
      ? {
          tuned: {
            minutes: tuned.heldOut.minutes,
            config: tuned.tunables,
            changes: tuned.changes.map(({ path: p, from, to }) => ({ path: p, from, to })),
            recommend: verdict.recommend,
            reason: verdict.reason,
            fragment: verdict.fragment ?? null,
            ...(verdict.apply ? { apply: verdict.apply } : {}),
            alarmMoves: tuned.alarmMoves ?? [],
            extended: tuned.extended ?? [],
            feasible: tuned.feasible,
            evaluations: tuned.evaluations,
            fit: tuned.fit,
            policies: {
              mlscale: tuned.heldOut.mlscale,
              oracle: tuned.heldOut.oracle,
              'mlscale-defaults': tuned.heldOut.defaults,
              'target-tracking': tuned.heldOut.targetTracking,
              ...(tuned.heldOut.targetTrackingCpu ? { 'target-tracking-cpu': tuned.heldOut.targetTrackingCpu } : {}),
            },
          },
        }
      : {}),
  };
}

async function runSimulate(o: SimulateOptions): Promise<void> {
  const policies = parsePolicies(o.policy);
  const peak = positive(o.peakUtilization, '--peak-utilization');
  const budget = Number(o.maxViolationPercent);
  if (!Number.isFinite(budget) || budget < 0 || budget > 100) {
    throw new CliError(`--max-violation-percent must be a number from 0 to 100, got '${o.maxViolationPercent}'`);
  }
  const output = o.json ? 'json' : o.output;
  // The progress line shows while a person reads a table (wide included), never with a document on stdout.
  const progressMode = output === 'wide' ? 'table' : output;
  const { parsed, shown } = loadConfig(o.config);
  const env = chooseEnvironment(parsed, o.env, shown);
  let sim;
  try {
    sim = simPoolFrom(env, o.pool);
  } catch (err) {
    throw new CliError(`--pool: ${(err as Error).message}`);
  }
  sim = withScaleInMinutes(withLagGrowth(sim, o.lagGrowth), o.scaleInMinutes);
  try {
    closeSync(openSync(o.trace, 'r'));
  } catch (err) {
    throw new CliError(`cannot read trace ${o.trace} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // Streamed: one pass checks the rows, one finds the peak (to rescale), one replays; nothing of the file is kept.
  const name = path.basename(o.trace);
  let stream: TraceStream = openTraceFile(o.trace, name);
  if (peak !== undefined) stream = rescaleStream(stream, peak, sim.pool.maxCapacity * sim.pool.capacityPerTask);
  // --tune replays halves of the trace many times: it keeps the trace (and every fit of the forecast) in memory.
  const inMemory: MinuteTrace | undefined = o.tune ? materialize(stream) : undefined;
  const forecasts = new ForecastCache(o.tune ? 'all' : 'latest');

  const progress = progressLine(progressMode, process.stderr);
  let comparison: Comparison;
  try {
    comparison = compare(inMemory ? streamOf(inMemory) : stream, sim, policies, forecasts, {
      timeline: o.html ? 'chart' : 'none',
      ...(progress ? { onProgress: (done: number, total: number) => progress.update(() => minutesProgress(`simulating ${name}`, done, total)) } : {}),
    });
  } finally {
    progress?.done();
  }
  // A policy that flaps: replay it with longer scale-in cooldowns (one more pass, only when one flaps).
  const curing = progressLine(progressMode, process.stderr);
  let cures: FlapCure[];
  try {
    cures = flapCures(
      inMemory ? streamOf(inMemory) : stream,
      sim,
      Object.fromEntries(policies.map((p) => [p, comparison.policies[p]])),
      forecasts,
      curing ? (done: number, total: number) => curing.update(() => minutesProgress(`scale-in cooldowns that stop flapping on ${name}`, done, total)) : undefined,
    );
  } finally {
    curing?.done();
  }
  const poolIndex = parsed.config.pools.findIndex((p) => p.name === sim.pool.name);
  let tuned: TuneResult | undefined;
  if (inMemory) {
    const tuning = progressLine(progressMode, process.stderr);
    try {
      const each = Math.floor(inMemory.rps.length / 2).toLocaleString('en-US');
      tuned = tune(inMemory, sim, poolIndex, {
        maxViolationPercent: budget,
        forecasts,
        ...(tuning ? { onRun: (runs: number) => tuning.update(() => `tuning on ${name}: ${runs} runs of ${each} minutes`) } : {}),
      });
    } finally {
      tuning?.done();
    }
  }
  const notes = [...simulationNotes(comparison, sim, policies), ...flapNotes(cures, sim)];
  const thrash = { maxDirectionChangesPerHour: sim.thrash.maxDirectionChangesPerHour, flapping: cures };
  const tuneNotes = tuned ? tuningNotes(tuned) : [];
  const title = `mlscale simulation: ${sim.pool.name} (${env.name}) on ${stream.name}`;
  if (o.html) {
    mkdirSync(path.dirname(path.resolve(o.html)), { recursive: true });
    const events = sim.plannedEvents.map((e) => ({ name: e.name, start: e.start, end: e.end }));
    // The verdict has its own section on the page; the other tuning notes go with the rest.
    writeFileSync(o.html, htmlReport(comparison, policies, title, tuned, { notes: [...notes, ...tuneNotes.slice(1)], events }));
  }
  if (output === 'name') {
    // kubectl's -o name: one line per thing compared, in the table's order.
    process.stdout.write(policies.map((p) => `policy/${p}\n`).join(''));
    return;
  }
  if (output === 'json' || output === 'yaml') {
    printDocument(output, simulationJson(comparison, policies, tuned, [...notes, ...tuneNotes], thrash));
    return;
  }
  const r = comparison.trace.rescale;
  const out: string[] = [
    `${title}: ${comparison.minutes} minutes, peak ${comparison.trace.peakRps} ${loadUnit(sim.pool.kind)}${r ? ` (rescaled: peak = ${r.fraction} × max capacity)` : ''}`,
    '',
    simulationTable(comparison, policies, output === 'wide'),
  ];
  if (notes.length) out.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  if (tuned) {
    const h = tuned.heldOut;
    const verdict = tuningVerdict(tuned);
    const ratio = (a: number) => (a / Math.max(1, h.oracle.taskMinutes)).toFixed(2);
    out.push(
      '',
      `Tuning (${tuned.evaluations} runs on the first half, ≤ ${budget} % violation minutes${tuned.feasible ? '' : '; no setting met it, fewest violations chosen'}):`,
      ...(tuned.changes.length ? tuned.changes.map((ch) => `  ${ch.path}: ${ch.from} -> ${ch.to}`) : ['  the defaults were best; nothing to change']),
      `Held-out half (${h.minutes} minutes): tuned ${h.mlscale.taskMinutes} task-minutes (${ratio(h.mlscale.taskMinutes)} × oracle), ${h.mlscale.violationPercent.toFixed(2)} % violation minutes;` +
        ` defaults ${h.defaults.taskMinutes} (${ratio(h.defaults.taskMinutes)} × oracle), ${h.defaults.violationPercent.toFixed(2)} %.`,
      verdict.reason,
      ...(verdict.fragment ? [JSON.stringify(verdict.fragment, null, 2), verdict.apply ?? ''] : []),
      ...tuneNotes.slice(1).map((n) => `- ${n}`),
    );
  }
  if (o.html) out.push('', `HTML report: ${path.resolve(o.html)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `mlscale simulate`: replay a load trace through a pool under each policy and compare. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('what-if simulator: replay a load trace through a configured pool under target tracking (native, and CPU alone), mlscale and a perfect-foresight oracle')
    .option('--trace <file>', 'CSV rate series (time + requests/value/rps column) or request log (a header with the time column alone)', BUNDLED_TRACE)
    .option('--config <file>', `mlscale config (default: ${DEFAULT_CONFIG} in the working directory, else this checkout's)`)
    .option('--env <name>', 'environment of the config (default: production, else the first)')
    .option('--pool <name>', 'pool whose load the trace is (default: the always-on pool)')
    .option('--policy <list>', `comma-separated policies to compare (${POLICIES.join(', ')})`, POLICIES.join(','))
    .option('--peak-utilization <fraction>', "rescale the trace so its peak needs this fraction of the pool's max capacity")
    .addOption(new Option('-o, --output <format>', 'output format: table, wide (more columns), json (fields in docs/simulator.md), yaml, or name (the policies)').choices(['table', 'wide', 'json', 'yaml', 'name']).default('table'))
    .option('--json', 'the same as -o json: one JSON object and nothing else')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--tune', 'search the tunable values on the first half, judge them on the second; recommend them only if they beat the defaults there')
    .addOption(new Option('--max-violation-percent <percent>', 'SLO budget for --tune').default('1'))
    .option('--lag-growth <on|off>', "override the always-on pool's scaleOnLagGrowth (the step policy on the lag's growth rate) for this run")
    .option('--scale-in-minutes <n>', "override the always-on pool's scaleInMinutes (1-15: low CPU minutes before the step scale-in; 15 = target tracking's own) for this run")
    .addHelpText('after', '\nExamples:\n  mlscale simulate --html report/simulation.html\n  mlscale simulate --trace traces/elb_request_count.csv --peak-utilization 0.8 --tune -o json\n  mlscale simulate --lag-growth on --policy mlscale,oracle\n  mlscale simulate --config config/examples/batch.json --pool batch-embedder --trace traces/batch-day.csv')
    .action(async (options: SimulateOptions) => runSimulate(options));
}

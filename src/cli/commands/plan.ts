import type { Command } from 'commander';
import { fraction, positiveNumber, wholeNumber } from '../args';
import { isDocument, out, outputOption, printDocument, renderTable, type OutputFormat } from '../output';
import { planCapacity, type PlanOption } from '../plan/capacity-plan';
import { DEFAULT_PLAN_TABLE, loadPlanTable } from '../plan/plan-table';

interface PlanOptions {
  readonly rps: string;
  readonly p95Ms?: string;
  readonly budget?: string;
  readonly targetUtilization: string;
  readonly minReplicas: string;
  readonly table?: string;
  readonly output: OutputFormat;
}

const money = (n: number) => `$${n.toFixed(2)}`;
const percent = (f: number) => `${Math.round(f * 100)}%`;

/** `yes`, or what misses: `no(p95)`, `no(budget)`, `no(p95,budget)` (one token). */
function fit(o: PlanOption): string {
  const misses = [o.meetsLatency ? '' : 'p95', o.withinBudget ? '' : 'budget'].filter(Boolean);
  return misses.length === 0 ? 'yes' : `no(${misses.join(',')})`;
}

function optionJson(o: PlanOption) {
  return {
    profile: o.profile.name,
    kind: o.profile.kind,
    size: o.profile.size,
    workers: o.profile.workers,
    rpsPerWorker: o.profile.rpsPerWorker,
    rpsPerReplica: o.rpsPerReplica,
    plannedRpsPerReplica: o.plannedRpsPerReplica,
    replicas: o.replicas,
    utilization: o.utilization,
    usdPerReplicaHour: o.profile.usdPerHour,
    usdPerHour: o.usdPerHour,
    usdPerMillionRequests: o.usdPerMillionRequests,
    p95Ms: o.profile.p95Ms,
    meetsLatency: o.meetsLatency,
    withinBudget: o.withinBudget,
  };
}

function plan(opts: PlanOptions): void {
  const input = {
    rps: positiveNumber(opts.rps, '--rps'),
    targetUtilization: fraction(opts.targetUtilization, '--target-utilization'),
    minReplicas: wholeNumber(opts.minReplicas, '--min-replicas', 1),
    ...(opts.p95Ms !== undefined ? { p95Ms: positiveNumber(opts.p95Ms, '--p95-ms') } : {}),
    ...(opts.budget !== undefined ? { budgetUsdPerHour: positiveNumber(opts.budget.replace(/^\$/, ''), '--budget') } : {}),
  };
  const table = loadPlanTable(opts.table ?? DEFAULT_PLAN_TABLE);
  const result = planCapacity(table.profiles, input);

  if (isDocument(opts.output)) {
    printDocument(opts.output, {
      input,
      table: { source: table.source, workload: table.workload, region: table.region },
      formula: 'replicas = max(minReplicas, ceil(rps / (workers * rpsPerWorker * targetUtilization)))',
      recommendation: result.recommended ? optionJson(result.recommended) : null,
      reason: result.reason,
      options: result.options.map(optionJson),
    });
    return;
  }
  if (opts.output === 'name') {
    // Cheapest first, the ones that fit only: `mlscale plan ... -o name | head -1` is the recommendation.
    result.options.filter((o) => o.meetsLatency && o.withinBudget).forEach((o) => out(`profile.mlscale/${o.profile.name}`));
    return;
  }
  const wide = opts.output === 'wide';
  const limits = [input.p95Ms !== undefined ? `p95 <= ${input.p95Ms} ms` : '', input.budgetUsdPerHour !== undefined ? `budget ${money(input.budgetUsdPerHour)}/h` : '']
    .filter(Boolean)
    .map((s) => `, ${s}`)
    .join('');
  out(`Capacity plan for ${input.rps} req/s at ${percent(input.targetUtilization)} target utilisation${limits}`);
  out(`replicas = ceil(${input.rps} / (workers x req/s per worker x ${input.targetUtilization})), at least ${input.minReplicas}; ${table.region} on-demand prices`);
  out();
  out(
    renderTable(
      [
        'PROFILE',
        ...(wide ? ['KIND'] : []),
        'SIZE',
        'WORKERS',
        'RPS_PER_WORKER',
        ...(wide ? ['RPS_PER_REPLICA', 'PLANNED_RPS'] : []),
        'REPLICAS',
        'UTIL',
        ...(wide ? ['USD_PER_REPLICA_HOUR'] : []),
        'USD_PER_HOUR',
        'USD_PER_1M_REQ',
        'P95_MS',
        'FITS',
      ],
      result.options.map((o) => [
        o.profile.name,
        ...(wide ? [o.profile.kind] : []),
        o.profile.size,
        o.profile.workers,
        o.profile.rpsPerWorker,
        ...(wide ? [o.rpsPerReplica, Math.round(o.plannedRpsPerReplica * 100) / 100] : []),
        o.replicas,
        percent(o.utilization),
        ...(wide ? [o.profile.usdPerHour.toFixed(4)] : []),
        o.usdPerHour.toFixed(2),
        o.usdPerMillionRequests.toFixed(3),
        o.profile.p95Ms,
        fit(o),
      ]),
    ),
  );
  out();
  const r = result.recommended;
  if (r) {
    out(`Recommended: ${r.profile.name} x ${r.replicas} (${r.profile.size}): ${money(r.usdPerHour)}/h, $${r.usdPerMillionRequests.toFixed(3)} per 1M requests, p95 ${r.profile.p95Ms} ms - ${result.reason}`);
  } else {
    out(`No recommendation: ${result.reason}`);
  }
  out(`Assumed workload: ${table.workload}.`);
  out(`Prices, throughputs and latencies are assumptions from ${table.source}: edit them for your model and region (docs/plan.md).`);
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('capacity plan and cost-aware instance recommendation for a request rate')
    .requiredOption('--rps <requests>', 'peak requests per second to serve')
    .option('--p95-ms <ms>', 'required p95 latency in milliseconds')
    .option('--budget <usdPerHour>', 'most to spend, USD per hour')
    .option('--target-utilization <fraction>', 'share of each replica to plan for, in (0, 1]: 0.7 (or 70%)', '0.7')
    .option('--min-replicas <count>', 'fewest replicas of any profile', '1')
    .option('--table <file>', 'price/performance table (default: config/plan-table.json of this checkout)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The arithmetic is MLServer's: a replica runs WORKERS model workers, each serving
REQ/S/WORKER; plan each replica at the target utilisation:
  replicas = ceil(rps / (workers x req/s per worker x utilisation))
Cost per hour = replicas x price; the recommendation is the cheapest profile whose
p95 fits --p95-ms and whose cost fits --budget. Prices, throughputs and latencies are
assumptions in config/plan-table.json, documented in docs/plan.md: edit them.

Examples:
  mlscale plan --rps 500
  mlscale plan --rps 500 --p95-ms 50 --budget 3
  mlscale plan --rps 40 --target-utilization 0.6 -o json
  mlscale plan --rps 500 --p95-ms 50 -o name | head -1`,
    )
    .action((opts: PlanOptions) => plan(opts));
}

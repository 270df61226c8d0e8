/**
 * The bar: "a failed run of any runbook leaves no paused autoscaler
 * and no raised minimum behind". For each runbook, every Task state the happy
 * path goes through (other than the undo steps themselves, whose failure is
 * the CRITICAL path tested with each runbook) is made to fail once with an
 * error no Retry matches; whatever the route then taken, the limits and
 * switches of every target must be as they were, and the failure reported.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConfigInput } from '../../lambdas/core/config';
import { exampleConfig, ROOT } from '../util';
import { type AslState, type Runbook } from './definition';
import { deploy, execute, HARD_FAILURE, limits, runbookOf, seed, stubPlannerEnvironment, type Deployment } from './harness';
import { World } from './model';

const HOUR = 3_600_000;
const example: Deployment = deploy(exampleConfig());
const eks: Deployment = deploy(JSON.parse(readFileSync(path.join(ROOT, 'config', 'examples', 'eks-gpu.json'), 'utf8')) as ConfigInput);

interface Scenario {
  readonly title: string;
  readonly d: Deployment;
  readonly runbook: 'scale-for-event' | 'emergency-scale-up' | 'gpu-nodegroup-scale';
  readonly input: () => unknown;
  /** Put the target in its starting state. */
  readonly arrange: (world: World) => void;
  /** What must hold of the target after any failed run, besides its limits and switches. */
  readonly settled: (world: World) => Record<string, unknown>;
  /** Undo steps: their own failure is the (reported) CRITICAL path. */
  readonly undo: RegExp;
  /**
   * Reports sent once the work is done: their failure fails the run with
   * nothing left to report through, and the work (the requested size) stays done.
   */
  readonly finalReports: readonly string[];
}

const event = () => ({ eventStart: new Date(Date.now() + HOUR).toISOString(), eventEnd: new Date(Date.now() + 2 * HOUR).toISOString() });

const scenarios: Scenario[] = [
  {
    title: 'scale-for-event on an ECS service',
    d: example,
    runbook: 'scale-for-event',
    input: () => ({ target: 'engine', replicas: 8, ...event() }),
    arrange: (w) => Object.assign(w.service('pipestream-production', 'engine'), { desired: 3, running: 3 }),
    settled: (w) => ({ desired: w.service('pipestream-production', 'engine').desired }),
    undo: /^Restore/,
    finalReports: ['Report done'],
  },
  {
    title: 'scale-for-event on an EKS node group',
    d: eks,
    runbook: 'scale-for-event',
    input: () => ({ target: 'gpu-g5', replicas: 4, ...event() }),
    arrange: () => undefined,
    settled: (w) => ({ desired: w.nodegroup('ml-prod', 'gpu-g5').desired }),
    undo: /^Restore/,
    finalReports: ['Report done'],
  },
  {
    title: 'emergency-scale-up on an ECS service',
    d: example,
    runbook: 'emergency-scale-up',
    input: () => ({ target: 'engine' }),
    arrange: (w) => {
      Object.assign(w.service('pipestream-production', 'engine'), { desired: 3, running: 3 });
      w.alarms.set('pipestream-production-engine-emergencyLatency', ['ALARM', 'OK']);
    },
    // Desired is the autoscaler's once it is resumed; the incident must not stay open.
    settled: (w) => ({ incidentOpen: w.incidents.records.get('engine')?.status === 'open' }),
    undo: /^Resume/,
    finalReports: ['Report stable'],
  },
  {
    title: 'gpu-nodegroup-scale',
    d: eks,
    runbook: 'gpu-nodegroup-scale',
    input: () => ({ cluster: 'ml-prod', nodegroup: 'gpu-g5', desiredSize: 3 }),
    arrange: () => undefined,
    settled: (w) => ({ desired: w.nodegroup('ml-prod', 'gpu-g5').desired }),
    undo: /^Restore/,
    finalReports: ['Report done'],
  },
];

function world(s: Scenario): World {
  const w = seed(new World(), s.d);
  s.arrange(w);
  return w;
}

const isTask = (rb: Runbook, name: string) => (rb.states[name] as AslState | undefined)?.Type === 'Task';

describe.each(scenarios)('a failed run of $title leaves no paused autoscaler and no raised minimum', (s) => {
  const rb = runbookOf(s.d, s.runbook);
  afterEach(() => vi.unstubAllEnvs());

  it('every Task on the happy path, failing once: limits and switches as before, the target settled, the failure reported', async () => {
    stubPlannerEnvironment(s.d);
    const baseline = world(s);
    const before = { limits: limits(baseline), settled: s.settled(baseline) };
    const happy = await execute(s.d, rb, baseline, s.input());
    expect(happy.status).toBe('SUCCEEDED');
    const tasks = [...new Set(happy.path.filter((n) => isTask(rb, n) && !s.undo.test(n)))];
    expect(tasks.length).toBeGreaterThan(3);

    const problems: string[] = [];
    for (const state of tasks) {
      const w = world(s);
      const e = await execute(s.d, rb, w, s.input(), { failOnce: state });
      const final = s.finalReports.includes(state);
      const after = { limits: limits(w), settled: final ? before.settled : s.settled(w) };
      if (e.status !== 'FAILED') problems.push(`${state}: run ${e.status}, expected FAILED`);
      else if (e.error !== HARD_FAILURE) problems.push(`${state}: failed with ${e.error}, expected the injected ${HARD_FAILURE}`);
      if (JSON.stringify(after) !== JSON.stringify(before)) problems.push(`${state}: left ${JSON.stringify(after)}, expected ${JSON.stringify(before)}`);
      // Failure subjects: '... failed ...', '... rejected ...', '...; previous size restored', 'CRITICAL: ...'.
      const reported = w.notifications.some((n) => /failed|rejected|previous size restored|CRITICAL/.test(n.subject));
      if (!final && !reported) problems.push(`${state}: failure not reported (sent: ${w.notifications.map((n) => n.subject).join(' | ')})`);
    }
    expect(problems).toEqual([]);
  });
});

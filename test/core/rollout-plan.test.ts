import { describe, expect, it } from 'vitest';
import { parseTargetsDocument } from '../../lambdas/core/config/document';
import { MAX_ROLLOUT_RUN_MINUTES, planRollout, ROLLOUT_TIMEOUT_MINUTES, stepsProblem } from '../../lambdas/core/rollout-plan';
import { RunbookInputError } from '../../lambdas/core/runbook-plan';

const NOW = new Date('2026-12-02T10:00:00Z');
const doc = parseTargetsDocument({
  targets: [
    {
      name: 'engine',
      kind: 'ecs-service',
      cluster: 'pipestream',
      service: 'engine',
      pool: 'always-on',
      minCapacity: 2,
      maxCapacity: 10,
      healthAlarms: ['p-engine-memory', 'p-engine-latencyP95'],
    },
    { name: 'gpu-workers', kind: 'eks-nodegroup', cluster: 'ml-prod', nodegroup: 'gpu-workers', pool: 'gpu-nodes', minCapacity: 0, maxCapacity: 4 },
  ],
});

const plan = (input: Record<string, unknown>) => planRollout({ target: 'engine', ...input }, doc, NOW, 'engine-rollout-20261202T1000Z');
const refused = (input: Record<string, unknown>) => {
  try {
    plan(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RunbookInputError);
    return (err as Error).message;
  }
  throw new Error('expected the input to be refused');
};

describe('planRollout', () => {
  it('plans each step under one rollout hold that ends by itself after every step and the keep time', () => {
    const p = plan({ steps: [1, 3, 5, 10] });
    expect(p).toMatchObject({
      steps: [1, 3, 5, 10],
      stepCount: 4,
      stepsText: '1 -> 3 -> 5 -> 10',
      holder: 'rollout:engine-rollout-20261202T1000Z',
      holdMinutes: 5,
      holdSeconds: 300,
      keepMinutes: 60,
      alarms: ['p-engine-memory', 'p-engine-latencyP95'],
      hasAlarms: true,
      pollSeconds: 30,
      maxPolls: 20,
    });
    // 4 steps x (10 min readiness + 5 min watch + 1) = 64 minutes, + 60 min kept = 124 minutes.
    expect(p.runMinutes).toBe(64);
    expect(p.until).toBe('2026-12-02T12:04:00.000Z');
  });

  it('gives a node group twenty minutes of readiness per step, and watches nothing when it has no health alarms', () => {
    const p = planRollout({ target: 'gpu-workers', steps: [1, 2], holdMinutes: 10, keepMinutes: 0 }, doc, NOW, 'x');
    expect(p).toMatchObject({ hasAlarms: false, alarms: [] });
    expect(p.until).toBe(new Date(NOW.getTime() + 2 * (20 + 10 + 1) * 60_000).toISOString());
  });

  it.each([
    [{ steps: [] }, 'steps must be a non-empty list of replica counts, e.g. [1, 3, 5, 10]'],
    [{ steps: [1, 3, 3] }, 'steps must be increasing, got 3 then 3'],
    [{ steps: [5, 3] }, 'steps must be increasing, got 5 then 3'],
    [{ steps: [1, 2.5] }, 'steps[1] must be a whole number >= 1, got 2.5'],
    [{ steps: [0, 2] }, 'steps[0] must be a whole number >= 1, got 0'],
    [{ steps: [1, 3, 12] }, 'steps must not exceed the max capacity 10 of engine, got 12'],
    [{ steps: [1, 2], holdMinutes: 0 }, 'holdMinutes must be at least 1 (a step must be watched)'],
    [{ steps: [1, 2], alarms: ['someone-elses'] }, "alarms must be among engine's health alarms (p-engine-memory, p-engine-latencyP95), got someone-elses"],
    [{ steps: [1, 2], target: 'nope' }, "unknown target 'nope' (known: engine, gpu-workers)"],
  ])('refuses %j with one line', (input, message) => {
    expect(refused(input)).toBe(message);
  });

  it('refuses a plan longer than a day of steps (the state machine times out after twice that and an hour)', () => {
    // 10 steps x (10 + 140 + 1) = 1510 minutes.
    expect(refused({ steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], holdMinutes: 140 })).toBe(
      'the rollout would take up to 1510 minutes (10 steps x (10 min readiness + 140 min hold + 1)); at most 1440: fewer steps or a shorter hold',
    );
    // 10 x (10 + 133 + 1) = 1440: just fits.
    expect(plan({ steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], holdMinutes: 133 }).runMinutes).toBe(MAX_ROLLOUT_RUN_MINUTES);
    expect(ROLLOUT_TIMEOUT_MINUTES).toBe(2 * MAX_ROLLOUT_RUN_MINUTES + 60);
  });

  it('accepts steps up to the max exactly', () => {
    expect(stepsProblem([2, 10], 10, 'engine')).toBeUndefined();
    expect(stepsProblem(Array.from({ length: 21 }, (_, i) => i + 1), 100, 'engine')).toBe('steps must be at most 20, got 21');
  });
});

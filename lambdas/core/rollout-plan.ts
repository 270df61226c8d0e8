/**
 * Gradual scale-up with health gates (the llmnet pattern 1 → 3 → 5 → 10,
 * testing between steps): the rollout runbook raises a target step by step
 * through one `rollout:<execution>` hold, and after each step waits until
 * the capacity runs and the target's health alarms have stayed OK for the
 * hold period. When an alarm fires it stops, keeping the last healthy step.
 * Pure: the runbook Lambda plans with it and the CLI checks its arguments
 * with it before starting anything.
 *
 * Every step rewrites the same hold with the same end: whatever happens to
 * the execution, the raise ends by itself at `until` and the reconciler then
 * gives the target back to its autoscaler.
 */
import { rolloutHolder } from './holds';
import { DEFAULTS } from './config/defaults';
import type { TargetsDocument } from './config/document';
import { POLL_SECONDS, readinessPolls, runbookTarget, RunbookInputError, wholeMinutes, type RunbookTarget } from './runbook-plan';

/** Minutes each step must stay healthy when the input does not say. */
export const DEFAULT_ROLLOUT_HOLD_MINUTES = DEFAULTS.rollout.holdMinutes;
/** Minutes the last step is kept after a healthy rollout, unless the input says. */
export const DEFAULT_ROLLOUT_KEEP_MINUTES = DEFAULTS.rollout.keepMinutes;
/** Steps at most: each is a hold write, a readiness wait and a watch. */
export const MAX_ROLLOUT_STEPS = 20;
/** Longest a rollout may plan to run (every step's readiness and watch), keep time not counted. */
export const MAX_ROLLOUT_RUN_MINUTES = 1_440;
/**
 * The rollout state machine's execution timeout: twice the longest run (a
 * step's polls and alarm reads may each take as long again in retries) and
 * an hour for the stop path's patient retries. A run that times out leaves
 * only its hold, which ends by itself at `until`.
 */
export const ROLLOUT_TIMEOUT_MINUTES = 2 * MAX_ROLLOUT_RUN_MINUTES + 60;

export interface RolloutPlan {
  readonly target: RunbookTarget;
  readonly steps: readonly number[];
  readonly stepCount: number;
  /** `1 -> 3 -> 5 -> 10`, for notifications. */
  readonly stepsText: string;
  readonly holder: string;
  /** Minutes the alarms must stay OK after each step is running. */
  readonly holdMinutes: number;
  /** The same in seconds (the state machine waits it out when there is no alarm to watch). */
  readonly holdSeconds: number;
  /** Minutes the last step is kept after a healthy rollout. */
  readonly keepMinutes: number;
  /** Longest the steps take as planned: each step's readiness and watch, and a minute of slack. */
  readonly runMinutes: number;
  /** When the rollout's hold ends by itself (ISO): every step's readiness and watch, plus the keep time. */
  readonly until: string;
  readonly alarms: readonly string[];
  readonly hasAlarms: boolean;
  readonly pollSeconds: number;
  readonly maxPolls: number;
}

/** Why a list of steps cannot be rolled out on a target with this max, or undefined when it can. */
export function stepsProblem(steps: unknown, maxCapacity: number, target: string): string | undefined {
  if (!Array.isArray(steps) || steps.length === 0) return 'steps must be a non-empty list of replica counts, e.g. [1, 3, 5, 10]';
  if (steps.length > MAX_ROLLOUT_STEPS) return `steps must be at most ${MAX_ROLLOUT_STEPS}, got ${steps.length}`;
  for (const [i, s] of steps.entries()) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 1) return `steps[${i}] must be a whole number >= 1, got ${JSON.stringify(s)}`;
    if (i > 0 && s <= (steps[i - 1] as number)) return `steps must be increasing, got ${String(steps[i - 1])} then ${s}`;
  }
  const last = steps[steps.length - 1] as number;
  if (last > maxCapacity) return `steps must not exceed the max capacity ${maxCapacity} of ${target}, got ${last}`;
  return undefined;
}

/**
 * rollout input: { target, steps, holdMinutes = 5, keepMinutes = 60 [, alarms] }.
 * `alarms` must be among the target's health alarms (the runbook's role may
 * read only those).
 */
export function planRollout(input: unknown, doc: TargetsDocument, now: Date, execution: string): RolloutPlan {
  if (typeof input !== 'object' || input === null) throw new RunbookInputError('input must be a JSON object');
  const i = input as Record<string, unknown>;
  const target = runbookTarget(doc, i.target);
  const spec = doc.targets.find((t) => t.name === target.name)!;
  const problem = stepsProblem(i.steps, spec.maxCapacity, target.name);
  if (problem) throw new RunbookInputError(problem);
  const steps = i.steps as number[];
  const holdMinutes = wholeMinutes(i.holdMinutes, 'holdMinutes', DEFAULT_ROLLOUT_HOLD_MINUTES);
  if (holdMinutes < 1) throw new RunbookInputError('holdMinutes must be at least 1 (a step must be watched)');
  const keepMinutes = wholeMinutes(i.keepMinutes, 'keepMinutes', DEFAULT_ROLLOUT_KEEP_MINUTES);
  if (i.alarms !== undefined && (!Array.isArray(i.alarms) || i.alarms.some((a) => typeof a !== 'string'))) throw new RunbookInputError('alarms must be a list of alarm names');
  const alarms = (i.alarms as string[] | undefined) ?? spec.healthAlarms;
  const foreign = alarms.filter((a) => !spec.healthAlarms.includes(a));
  if (foreign.length > 0) throw new RunbookInputError(`alarms must be among ${target.name}'s health alarms (${spec.healthAlarms.join(', ') || 'none'}), got ${foreign.join(', ')}`);
  if (typeof execution !== 'string' || execution === '') throw new RunbookInputError('execution must be the execution name');
  const maxPolls = readinessPolls(target.kind);
  // Each step: readiness (polls), the watch (holdMinutes of one-minute alarm reads; an alarm stops the run), a minute of slack.
  const readinessMinutes = (maxPolls * POLL_SECONDS) / 60;
  const runMinutes = steps.length * (readinessMinutes + holdMinutes + 1);
  if (runMinutes > MAX_ROLLOUT_RUN_MINUTES) {
    throw new RunbookInputError(
      `the rollout would take up to ${runMinutes} minutes (${steps.length} steps x (${readinessMinutes} min readiness + ${holdMinutes} min hold + 1)); at most ${MAX_ROLLOUT_RUN_MINUTES}: fewer steps or a shorter hold`,
    );
  }
  const until = new Date(now.getTime() + (runMinutes + keepMinutes) * 60_000);
  return {
    target,
    steps,
    stepCount: steps.length,
    stepsText: steps.join(' -> '),
    holder: rolloutHolder(execution),
    holdMinutes,
    holdSeconds: holdMinutes * 60,
    keepMinutes,
    runMinutes,
    until: until.toISOString(),
    alarms,
    hasAlarms: alarms.length > 0,
    pollSeconds: POLL_SECONDS,
    maxPolls,
  };
}

/**
 * What the runbook suites share: the start time, inputs, the catalogue of
 * runs that together reach every state of every runbook (aborts.test.ts and
 * failed-runs.test.ts walk it), and the check that an execution, however it
 * ended, leaves nothing that outlives its holds.
 */
import { toItem } from '../../lambdas/aws/holds-store';
import { emergencyCeiling } from '../../lambdas/core/config/document';
import { epochSeconds, PAUSE_HOLDER } from '../../lambdas/core/holds';
import type { ConfigName } from '../templates';
import type { Json } from '../fakes/aws';
import { deployment, HARD_FAILURE, runbookOf, type Execution, type Harness, type RunbookName } from './harness';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/**
 * Saturday 2026-03-14 10:00 UTC: outside every schedule of the configs
 * (office hours on weekdays, planned events in June and November), so a
 * target with no hold is at its plain configured limits.
 */
export const START = Date.parse('2026-03-14T10:00:00Z');

export const ENGINE_ALARM = 'pipestream-production-engine-emergencyLatency';
/** One of engine's health alarms (the rollout's gates; ENGINE_ALARM is another). */
export const ENGINE_MEMORY = 'pipestream-production-engine-memory';
export const CLUSTER = 'pipestream-production';

/** An event `startInMinutes` from now lasting `minutes` (ISO times, as an operator gives them). */
export function eventWindow(startInMinutes = 60, minutes = 60): { eventStart: string; eventEnd: string } {
  const start = Date.now() + startInMinutes * MINUTE;
  return { eventStart: new Date(start).toISOString(), eventEnd: new Date(start + minutes * MINUTE).toISOString() };
}

/**
 * A backlog reading for a drain-sized target (its `drain` metrics): the
 * backlog a minute ago and now, and the work processed in the newest minute.
 * The points are at the current minute: a reader later than a few minutes sees none.
 */
export function backlogReading(h: Harness, target: string, reading: { readonly before: number; readonly now: number; readonly processedPerMinute: number }): void {
  const drain = h.spec(target).drain;
  if (!drain) throw new Error(`${target} is not drain-sized`);
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  h.fake.setSeries(drain.backlog, [reading.before, reading.now], minute);
  h.fake.setSeries(drain.processed, [reading.processedPerMinute], minute);
}

/** A fault on a runbook Lambda action (`hold`, `release`, `resume` ...), not on the others. */
export const onAction = (action: string | undefined) => (payload: Json) => (payload as { action?: string }).action === action;
/** The emergency Lambda opening an incident (its payload has no action). */
export const opening = onAction(undefined);

/** One run of a runbook, arranged to take one route. */
export interface Scenario {
  readonly title: string;
  readonly config: ConfigName;
  readonly runbook: RunbookName;
  readonly input: () => Json;
  readonly arrange?: (h: Harness) => void | Promise<void>;
  /** Longest a hold of this run may last, from its start. */
  readonly holdMinutes: number;
}

const engineAt3 = (h: Harness) => void Object.assign(h.service('engine'), { desired: 3, running: 3 });
const failing = (call: string, when?: (payload: Json) => boolean) => (h: Harness) => void h.fake.fail({ call, error: HARD_FAILURE, ...(when ? { when } : {}) });
const all = (...steps: ((h: Harness) => void | Promise<void>)[]) => async (h: Harness) => {
  for (const step of steps) await step(h);
};

const event = (fields: Record<string, unknown> = {}) => () => ({ target: 'engine', replicas: 8, ...eventWindow(), ...fields });
/** Short monitoring: two stable minutes within five. */
const emergency = (fields: Record<string, unknown> = {}) => () => ({ target: 'engine', stableMinutes: 2, maxMonitorMinutes: 5, ...fields });
const nodegroup = (fields: Record<string, unknown> = {}) => () => ({ nodegroup: 'gpu-g5', desiredSize: 3, holdMinutes: 30, ...fields });
// A copy: the fake consumes the list it is given, one state per read.
const alarmSays = (...states: string[]) => (h: Harness) => h.fake.addAlarm(ENGINE_ALARM, [...states]);

/** Three steps of engine, two minutes each, kept ten minutes. */
export const rollout = (fields: Record<string, unknown> = {}) => () => ({ target: 'engine', steps: [1, 3, 5], holdMinutes: 2, keepMinutes: 10, ...fields });
/** 3 steps x (10 min readiness + 2 min hold + 1) + 10 min kept (lambdas/core/rollout-plan.ts). */
export const ROLLOUT_HOLD = 3 * (10 + 2 + 1) + 10;
const memorySays = (...states: string[]) => (h: Harness) => h.fake.addAlarm(ENGINE_MEMORY, [...states]);
/** An operator's `mlscale pause` of engine for two hours, applied by one reconcile pass. */
export async function pauseEngine(h: Harness): Promise<void> {
  const now = epochSeconds(Date.now());
  const hold = { target: 'engine', holder: PAUSE_HOLDER, suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true, reason: 'mlscale pause', createdAt: now, expiresAt: now + 2 * 3600 };
  h.fake.table(h.d.holdsTable).set(`engine\u0000${PAUSE_HOLDER}`, toItem(hold));
  await h.reconcile();
}

/** eventStart 60 min away + 60 min long + 20 min cooldown. */
const EVENT_HOLD = 140;
/** Readiness (10 min) + maxMonitorMinutes + 5 (lambdas/core/runbook-plan.ts). */
const EMERGENCY_HOLD = 10 + 5 + 5;

/**
 * Routes through every state of every runbook (but the ones UNREACHABLE
 * names), each walked twice by `walkStates`: as arranged, and with every
 * notification failing (the `(not sent)` states).
 */
export const SCENARIOS: readonly Scenario[] = [
  { title: 'scale-for-event: happy path', config: 'default', runbook: 'scale-for-event', input: event(), arrange: engineAt3, holdMinutes: EVENT_HOLD },
  { title: 'scale-for-event: rejected input', config: 'default', runbook: 'scale-for-event', input: event({ replicas: 99 }), holdMinutes: 0 },
  { title: 'scale-for-event: hold fails', config: 'default', runbook: 'scale-for-event', input: event(), arrange: failing('lambda:runbook', onAction('hold')), holdMinutes: EVENT_HOLD },
  {
    title: 'scale-for-event: hold fails and so does its release',
    config: 'default',
    runbook: 'scale-for-event',
    input: event(),
    arrange: all(failing('lambda:runbook', onAction('hold')), failing('lambda:runbook', onAction('release'))),
    holdMinutes: EVENT_HOLD,
  },
  {
    title: 'scale-for-event: the raised tasks never run',
    config: 'default',
    runbook: 'scale-for-event',
    input: event(),
    arrange: (h) => void (h.service('engine').convergeAfterPolls = Infinity),
    holdMinutes: EVENT_HOLD,
  },
  { title: 'scale-for-event: the release at the end fails', config: 'default', runbook: 'scale-for-event', input: event(), arrange: failing('lambda:runbook', onAction('release')), holdMinutes: EVENT_HOLD },
  {
    // Another run already holds this event: this one neither replaces nor releases it.
    title: 'scale-for-event: another run holds the event',
    config: 'default',
    runbook: 'scale-for-event',
    input: event({ name: 'launch' }),
    arrange: async (h) => {
      const { eventEnd } = eventWindow();
      await h.invoke('runbook', { action: 'hold', target: 'engine', holder: 'event:launch', floor: 8, until: new Date(Date.parse(eventEnd) + 20 * MINUTE).toISOString(), reason: 'another run' });
    },
    holdMinutes: EVENT_HOLD,
  },
  { title: 'scale-for-event: a node group', config: 'eks', runbook: 'scale-for-event', input: event({ target: 'gpu-g5', replicas: 4 }), holdMinutes: EVENT_HOLD },

  { title: 'emergency-scale-up: happy path', config: 'default', runbook: 'emergency-scale-up', input: emergency(), arrange: all(engineAt3, alarmSays('ALARM', 'OK')), holdMinutes: EMERGENCY_HOLD },
  { title: 'emergency-scale-up: rejected input', config: 'default', runbook: 'emergency-scale-up', input: emergency({ target: 'gpu-modules' }), holdMinutes: 0 },
  {
    title: 'emergency-scale-up: the tasks asked for already clear the backlog',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => backlogReading(h, 'engine', { before: 200, now: 100, processedPerMinute: 600 }),
    holdMinutes: 0,
  },
  { title: 'emergency-scale-up: no alarm to watch', config: 'default', runbook: 'emergency-scale-up', input: emergency({ alarms: [] }), holdMinutes: EMERGENCY_HOLD },
  {
    title: 'emergency-scale-up: an incident is already open',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => h.invoke('emergency', { target: 'engine', incident: 'engine-already-open', holdMinutes: 30 }).then(() => undefined),
    holdMinutes: 30,
  },
  {
    title: 'emergency-scale-up: the doubling fails for good after it landed',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => void h.fake.fail({ call: 'lambda:emergency', error: 'Lambda.Unknown', afterEffect: true, when: opening }),
    holdMinutes: EMERGENCY_HOLD,
  },
  {
    title: 'emergency-scale-up: the doubling and the resume fail',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: all(failing('lambda:emergency', opening), failing('lambda:emergency', onAction('resume'))),
    holdMinutes: EMERGENCY_HOLD,
  },
  {
    title: 'emergency-scale-up: the doubled tasks never run',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => void (h.service('engine').convergeAfterPolls = Infinity),
    holdMinutes: EMERGENCY_HOLD,
  },
  { title: 'emergency-scale-up: never stable', config: 'default', runbook: 'emergency-scale-up', input: emergency(), arrange: alarmSays('ALARM'), holdMinutes: EMERGENCY_HOLD },
  {
    title: 'emergency-scale-up: the alarm does not exist',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => void h.fake.alarms.delete(ENGINE_ALARM),
    holdMinutes: EMERGENCY_HOLD,
  },
  {
    title: 'emergency-scale-up: the alarms cannot be read',
    config: 'default',
    runbook: 'emergency-scale-up',
    input: emergency(),
    arrange: (h) => void h.fake.fail({ call: 'cloudwatch:describeAlarms', error: 'CloudWatch.InvalidParameterValueException', source: 'sdk' }),
    holdMinutes: EMERGENCY_HOLD,
  },
  { title: 'emergency-scale-up: the resume fails', config: 'default', runbook: 'emergency-scale-up', input: emergency(), arrange: failing('lambda:emergency', onAction('resume')), holdMinutes: EMERGENCY_HOLD },

  {
    title: 'gpu-nodegroup-scale: happy path, instances lagging',
    config: 'eks',
    runbook: 'gpu-nodegroup-scale',
    input: nodegroup(),
    arrange: (h) => void (h.nodegroup('gpu-g5').instancesLagPolls = 1),
    holdMinutes: 30,
  },
  { title: 'gpu-nodegroup-scale: rejected input', config: 'eks', runbook: 'gpu-nodegroup-scale', input: nodegroup({ desiredSize: 9 }), holdMinutes: 0 },
  { title: 'gpu-nodegroup-scale: hold fails', config: 'eks', runbook: 'gpu-nodegroup-scale', input: nodegroup(), arrange: failing('lambda:runbook', onAction('hold')), holdMinutes: 30 },
  {
    title: 'gpu-nodegroup-scale: hold fails and so does its release',
    config: 'eks',
    runbook: 'gpu-nodegroup-scale',
    input: nodegroup(),
    arrange: all(failing('lambda:runbook', onAction('hold')), failing('lambda:runbook', onAction('release'))),
    holdMinutes: 30,
  },
  {
    title: 'gpu-nodegroup-scale: never ACTIVE',
    config: 'eks',
    runbook: 'gpu-nodegroup-scale',
    input: nodegroup(),
    arrange: (h) => void (h.nodegroup('gpu-g5').activeAfterPolls = Infinity),
    holdMinutes: 30,
  },
  {
    title: 'gpu-nodegroup-scale: the status poll fails',
    config: 'eks',
    runbook: 'gpu-nodegroup-scale',
    input: nodegroup(),
    arrange: (h) => void h.fake.fail({ call: 'eks:describeNodegroup', source: 'state-machine', error: 'Eks.AccessDeniedException' }),
    holdMinutes: 30,
  },

  { title: 'rollout: happy path 1 -> 3 -> 5', config: 'default', runbook: 'rollout', input: rollout(), holdMinutes: ROLLOUT_HOLD },
  { title: 'rollout: rejected input', config: 'default', runbook: 'rollout', input: rollout({ steps: [1, 30] }), holdMinutes: 0 },
  { title: 'rollout: an alarm fires at step 2', config: 'default', runbook: 'rollout', input: rollout(), arrange: memorySays('OK', 'OK', 'ALARM'), holdMinutes: ROLLOUT_HOLD },
  { title: 'rollout: an alarm fires at the first step', config: 'default', runbook: 'rollout', input: rollout(), arrange: memorySays('ALARM'), holdMinutes: ROLLOUT_HOLD },
  {
    title: 'rollout: step 2 never runs',
    config: 'default',
    runbook: 'rollout',
    input: rollout(),
    arrange: (h) => void (h.service('engine').convergeAfterPolls = Infinity),
    holdMinutes: ROLLOUT_HOLD,
  },
  { title: 'rollout: a health alarm does not exist', config: 'default', runbook: 'rollout', input: rollout(), arrange: (h) => void h.fake.alarms.delete(ENGINE_MEMORY), holdMinutes: ROLLOUT_HOLD },
  {
    title: 'rollout: the alarms cannot be read',
    config: 'default',
    runbook: 'rollout',
    input: rollout(),
    arrange: (h) => void h.fake.fail({ call: 'cloudwatch:describeAlarms', error: 'CloudWatch.InvalidParameterValueException', source: 'sdk' }),
    holdMinutes: ROLLOUT_HOLD,
  },
  { title: 'rollout: no alarm to watch', config: 'default', runbook: 'rollout', input: rollout({ alarms: [] }), holdMinutes: ROLLOUT_HOLD },
  { title: 'rollout: the first raise fails', config: 'default', runbook: 'rollout', input: rollout(), arrange: failing('lambda:runbook', onAction('hold')), holdMinutes: ROLLOUT_HOLD },
  {
    title: 'rollout: the raise to step 2 fails, and so does the keep',
    config: 'default',
    runbook: 'rollout',
    input: rollout(),
    arrange: (h) => void h.fake.fail({ call: 'lambda:runbook', error: HARD_FAILURE, after: 1, when: onAction('hold') }),
    holdMinutes: ROLLOUT_HOLD,
  },
  {
    title: 'rollout: an alarm fires at the first step, and the release fails',
    config: 'default',
    runbook: 'rollout',
    input: rollout(),
    arrange: all(memorySays('ALARM'), failing('lambda:runbook', onAction('release'))),
    holdMinutes: ROLLOUT_HOLD,
  },
  {
    title: 'rollout: the status poll fails',
    config: 'default',
    runbook: 'rollout',
    input: rollout(),
    arrange: (h) => void h.fake.fail({ call: 'ecs:describeServices', source: 'state-machine', error: 'Ecs.AccessDeniedException' }),
    holdMinutes: ROLLOUT_HOLD,
  },
  // A pause holds desired still: the raise to 3 moves nothing, so there is no step to watch.
  { title: 'rollout: the target is paused', config: 'default', runbook: 'rollout', input: rollout(), arrange: pauseEngine, holdMinutes: 120 },
  {
    title: 'rollout: a node group',
    config: 'eks',
    runbook: 'rollout',
    input: rollout({ target: 'gpu-g5', steps: [1, 2] }),
    // 2 steps x (20 min readiness + 2 + 1) + 10 kept.
    holdMinutes: 2 * (20 + 2 + 1) + 10,
  },
];

/**
 * States no configuration the tests synthesize can reach, and why. Every
 * emergency-enabled target is an ECS service (node groups have emergency
 * doubling off in every config), so the emergency runbook's node-group
 * readiness branch never runs.
 */
export const UNREACHABLE: Readonly<Record<RunbookName, readonly string[]>> = {
  'scale-for-event': [],
  'emergency-scale-up': ['Doubled: node group status', 'Doubled: group active?'],
  'gpu-nodegroup-scale': [],
  rollout: [],
};

/** Put a fresh world in place for `s` (its deployment, its arrangement). */
export async function arrange(h: Harness, s: Scenario): Promise<void> {
  h.reset(deployment(s.config));
  await s.arrange?.(h);
}

/** `s` with every notification failing, so its route goes through the `(not sent)` states. */
function silent(s: Scenario): Scenario {
  return {
    ...s,
    title: `${s.title}, no notification sent`,
    arrange: async (h) => {
      await s.arrange?.(h);
      h.fake.fail({ call: 'sns:publish', error: 'Sns.KMSAccessDeniedException' });
    },
  };
}

/**
 * For each scenario of `runbook` (and its silent twin): run it as arranged,
 * then call `each` once for every state of its route that `pick` accepts and
 * no earlier scenario reached, in a fresh world (`arrange` first). Returns
 * the states visited.
 */
export async function walkStates(
  h: Harness,
  runbook: RunbookName,
  pick: (state: string, s: Scenario) => boolean,
  each: (state: string, s: Scenario, route: Execution) => Promise<void>,
): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const s of SCENARIOS.filter((x) => x.runbook === runbook).flatMap((x) => [x, silent(x)])) {
    await arrange(h, s);
    const route = await h.run(s.runbook, s.input());
    for (const state of new Set(route.path)) {
      if (seen.has(state) || !pick(state, s)) continue;
      seen.add(state);
      await arrange(h, s);
      await each(state, s, route);
    }
  }
  return seen;
}

/** Every state of `runbook` but the unreachable ones. */
export function reachableStates(runbook: RunbookName, type?: string): string[] {
  const rb = runbookOf(deployment(runbook === 'gpu-nodegroup-scale' ? 'eks' : 'default'), runbook);
  return Object.entries(rb.states)
    .filter(([name, state]) => (!type || state.Type === type) && !UNREACHABLE[runbook].includes(name))
    .map(([name]) => name)
    .sort();
}

/**
 * What every execution must leave, however it ended (issue #9): every hold
 * still active is in force (one reconcile pass: its floor is the minimum,
 * its suspension applied) and ends no later than `holdMinutes` after
 * `startedAt`; once they have all expired, one reconcile pass puts every
 * target back at its configured min, max and suspension. Returns what is
 * wrong, each line starting with `label`.
 */
export async function settleProblems(h: Harness, label: string, startedAt: number, holdMinutes: number): Promise<string[]> {
  const problems: string[] = [];
  if (h.activeHolds().length > 0) {
    const before = await h.reconcile();
    for (const t of before.targets.filter((x) => x.failed)) problems.push(`${label}: reconcile failed for ${t.target}: ${t.error}`);
  }
  const limits = h.limits();
  // An operator's pause beats every floor (the limits bracket the desired it left: lambdas/core/reconcile.ts).
  const paused = new Set(h.activeHolds().filter((x) => x.holder === PAUSE_HOLDER).map((x) => x.target));
  for (const hold of h.activeHolds()) {
    const spec = h.spec(hold.target);
    const floor = Math.min(hold.floor ?? 0, Math.max(emergencyCeiling(spec), spec.maxCapacity));
    const now = limits[hold.target]!;
    if (now.min < floor && !paused.has(hold.target)) problems.push(`${label}: ${hold.holder} on ${hold.target} not in force: min ${now.min} < floor ${floor}`);
    if (hold.suspendScaleIn && !now.suspension.dynamicIn) problems.push(`${label}: ${hold.holder} on ${hold.target} asks scale-in suspended; it is not`);
  }
  for (const hold of h.holds()) {
    if (hold.expiresAt * 1000 > startedAt + holdMinutes * MINUTE) {
      problems.push(`${label}: ${hold.holder} on ${hold.target} ends ${new Date(hold.expiresAt * 1000).toISOString()}, after the run's bound of ${holdMinutes} min`);
    }
  }
  h.advancePastHolds();
  const after = await h.reconcile();
  for (const t of after.targets.filter((x) => x.failed)) problems.push(`${label}: reconcile after expiry failed for ${t.target}: ${t.error}`);
  const configured = h.configuredLimits();
  for (const [target, now] of Object.entries(h.limits())) {
    if (JSON.stringify(now) !== JSON.stringify(configured[target])) problems.push(`${label}: after expiry ${target} is ${JSON.stringify(now)}, configured ${JSON.stringify(configured[target])}`);
  }
  if (h.activeHolds().length > 0) problems.push(`${label}: holds still active after expiry: ${h.activeHolds().map((x) => x.holder).join(', ')}`);
  return problems;
}

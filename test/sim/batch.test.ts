/**
 * Batch pools in the simulator: an SQS queue's messages (the trace is
 * messages arriving per second), target tracking on visible messages per
 * running task, mlscale's wake/idle holds (lambdas/core/work.ts), scale-in
 * that never stops a task mid-message, and the oldest message's age as the
 * SLO.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, type Comparison } from '../../src/sim/compare';
import { POLICIES, runLockstep, simulate } from '../../src/sim/simulate';
import { streamOf } from '../../src/sim/trace';
import { MessageQueue, PoolWorld, type MinuteState } from '../../src/sim/world';
import { batchConfig, batchSimPool, DAY, MINUTE_MS, minuteTrace, runCli, type CliRun } from './helpers';

/** 1 message/s per task, tasks ready a minute after they are asked for; the SLO: no message older than 45 s. */
const QUEUE = { capacityPerTask: 1, startupMinutes: 1, baseP95Ms: 40, queue: { maxMessageAgeSeconds: 45 } };

function run(world: PoolWorld, loads: readonly number[], from = 0): MinuteState[] {
  return loads.map((load, i) => world.step(from + i, load));
}

describe('MessageQueue: the oldest message, first in first out', () => {
  it('a minute of messages is spread over the minute: taking half leaves the second half, 30 s old at its end', () => {
    const q = new MessageQueue();
    q.arrive(0, 60);
    q.take(30);
    expect(q.oldestAgeSeconds(1)).toBeCloseTo(30);
    q.arrive(1, 60);
    q.take(30);
    // The first minute's messages are gone: the oldest left arrived at the start of minute 1.
    expect(q.oldestAgeSeconds(2)).toBeCloseTo(60);
    expect(q.length).toBe(1);
    q.take(60);
    expect([q.length, q.oldestAgeSeconds(3)]).toEqual([0, 0]);
  });

  it('holds one entry per minute that still has messages, however many minutes pass', () => {
    const q = new MessageQueue();
    for (let m = 0; m < 5000; m++) {
      q.arrive(m, 10);
      q.take(10);
    }
    expect(q.length).toBe(0);
  });
});

describe('PoolWorld with a queue (batch pools)', () => {
  it('the backlog is the visible messages, busy tasks are the messages in flight, the age is the oldest message\'s', () => {
    const world = new PoolWorld(QUEUE, 1);
    const states = run(world, [2, 2, 2]);
    expect(states.map((s) => s.backlog)).toEqual([60, 120, 180]);
    // Visible messages only: no Little's-law in-flight share in the queue's metric.
    expect(states.map((s) => s.queueDepth)).toEqual([60, 120, 180]);
    expect(states.map((s) => s.inFlight)).toEqual([1, 1, 1]);
    expect(states.map((s) => s.messageAgeSeconds!)).toEqual([30, 60, 90].map((a) => expect.closeTo(a, 9)));
    // A violation minute: the oldest message older than maxMessageAgeSeconds (45 s), not a backlog share.
    expect(states.map((s) => s.violation)).toEqual([false, true, true]);
  });

  it('at zero tasks messages wait: no violation until the oldest is older than the limit', () => {
    const world = new PoolWorld({ ...QUEUE, queue: { maxMessageAgeSeconds: 120 } }, 0);
    const states = run(world, [0.1, 0, 0, 0]);
    expect(states.map((s) => s.backlog)).toEqual([6, 6, 6, 6]);
    expect(states.map((s) => s.tasks)).toEqual([0, 0, 0, 0]);
    expect(states.map((s) => s.messageAgeSeconds)).toEqual([60, 120, 180, 240]);
    expect(states.map((s) => s.violation)).toEqual([false, false, true, true]);
  });

  it('scale-in stops idle tasks at once; a task mid-message finishes it first (paid, taking no new message)', () => {
    const world = new PoolWorld(QUEUE, 4);
    // 2 msg/s on 4 tasks of 1 msg/s: two tasks busy at the end of the minute.
    expect(world.step(0, 2)).toMatchObject({ inFlight: 2, ready: 4 });
    world.setDesired(1, 1);
    // Two idle tasks stopped; one of the two busy ones finishes its message through minute 1.
    const s = world.step(1, 0.5);
    expect([s.ready, s.draining, s.tasks, s.desired]).toEqual([1, 1, 2, 1]);
    // It served nothing new: the one ready task did.
    expect(s.servedRps).toBe(0.5);
    expect(world.step(2, 0.5)).toMatchObject({ ready: 1, draining: 0, tasks: 1 });
  });

  it('an idle pool scales in at once, like any other pool', () => {
    const world = new PoolWorld(QUEUE, 4);
    world.step(0, 0);
    world.setDesired(0, 1);
    expect(world.step(1, 0)).toMatchObject({ ready: 0, draining: 0, tasks: 0 });
  });

  it('a task still finishing its message is running: if desired grows back it carries on, no new task starts', () => {
    const world = new PoolWorld(QUEUE, 2);
    world.step(0, 5);
    world.setDesired(1, 1);
    expect(world.setDesired(2, 1)).toBe(0);
    expect(world.step(1, 2)).toMatchObject({ ready: 2, draining: 0, tasks: 2 });
    expect(world.setDesired(3, 2)).toBe(1);
  });

  it('a pool without a queue is unchanged: surplus tasks stop at once, busy or not', () => {
    const world = new PoolWorld({ capacityPerTask: 1, startupMinutes: 1, baseP95Ms: 40 }, 4);
    world.step(0, 4);
    world.setDesired(1, 1);
    const s = world.step(1, 0);
    expect([s.ready, s.tasks, s.draining, s.inFlight, s.messageAgeSeconds]).toEqual([1, 1, undefined, undefined, undefined]);
  });
});

/**
 * Three hours, from zero: a burst of 20 msg/s for three minutes at 00:30 (more than 8 tasks × 2 msg/s
 * serve), then nothing; a trickle of 3 messages a minute (fewer than messagesPerTask, 10) from 01:30 to 02:00.
 */
const BURSTY = Array.from({ length: 180 }, (_, m) => (m >= 30 && m < 33 ? 20 : m >= 90 && m < 120 ? 0.05 : 0));
const BURST = [30, 90] as const;
const TRICKLE = [90, 120] as const;
/** The example batch pool with a 2-minute message-age SLO. */
const SIM = batchSimPool({ maxMessageAgeSeconds: 120 });

let bursty: Comparison | undefined;
const day = () => (bursty ??= compare(minuteTrace(BURSTY), SIM));
const series = (xs: ArrayLike<number>, [from, to]: readonly [number, number]) => Array.from(xs).slice(from, to);

describe('a batch pool on a bursty queue', () => {
  it('is the pool of the config: 0-8 tasks, 2 msg/s each, 10 messages per task, 5 idle minutes, missing data idle', () => {
    expect(SIM.pool).toMatchObject({ kind: 'batch', minCapacity: 0, maxCapacity: 8, capacityPerTask: 2, messagesPerTask: 10, idleMinutes: 5, missingDataIsIdle: true, startupSeconds: 60 });
    expect(SIM.batch).toMatchObject({ messagesPerTask: 10, maxMessageAgeSeconds: 120, ageAlarm: { kind: 'oldestMessageAge', threshold: 120, evaluationPeriods: 5, datapointsToAlarm: 5 } });
    expect(SIM.emergency.enabled).toBe(false);
  });

  it('every policy but CPU tracking wakes for the burst; each counts its cold starts', () => {
    const c = day();
    for (const p of ['target-tracking', 'mlscale', 'oracle'] as const) {
      expect(Math.max(...series(c.timelines[p].tasks, BURST)), p).toBe(8);
      expect(c.policies[p].coldStarts, p).toBe(2);
    }
    // The baseline wakes on its queue metric: one datapoint of backlog per task above target, seen two minutes late.
    expect(series(c.timelines['target-tracking'].tasks, [30, 34])).toEqual([0, 0, 8, 8]);
    // No task, no CPU datapoint: CPU tracking never starts one.
    expect(c.policies['target-tracking-cpu'].taskMinutes).toBe(0);
  });

  it('mlscale goes to zero idleMinutes after the queue is empty and nothing is in flight, not before', () => {
    const c = day();
    const t = c.timelines.mlscale;
    // The last minute a task worked: messages waited at the end of the minute before, or arrived in it.
    let last = BURST[0];
    for (let m = BURST[0]; m < BURST[1]; m++) if (t.backlog[m - 1]! > 0 || BURSTY[m]! > 0) last = m;
    expect(last).toBe(36);
    const firstZero = series(t.tasks, [last, BURST[1]]).indexOf(0) + last;
    // Idle = idleMinutes of datapoints of nothing, the newest two minutes late: zero at last + idleMinutes + 1.
    expect(firstZero).toBe(last + SIM.tunables.idleMinutes + 1);
    expect(series(t.tasks, [firstZero, BURST[1]]).every((x) => x === 0)).toBe(true);
  });

  it('mlscale wakes for the first message of a trickle and keeps a task while messages are in flight', () => {
    const t = day().timelines.mlscale;
    // The first messages (minute 90) are seen at minute 92: a task is asked for then, ready at 93.
    expect(series(t.tasks, [88, 94])).toEqual([0, 0, 0, 0, 1, 1]);
    expect(series(t.tasks, [92, TRICKLE[1]]).every((x) => x >= 1)).toBe(true);
    expect(Math.max(...series(t.messageAgeSeconds!, TRICKLE))).toBeLessThanOrEqual(3 * 60);
    // And to zero after the last of it, idleMinutes later.
    expect(series(t.tasks, [TRICKLE[1], 180]).indexOf(0) + TRICKLE[1]).toBe(TRICKLE[1] - 1 + SIM.tunables.idleMinutes + 1);
    expect(t.backlog[179]).toBe(0);
  });

  it('target tracking alone scales a trickle in to zero while it is being worked on, and strands fewer messages than its target', () => {
    const c = day();
    const t = c.timelines['target-tracking'];
    // Visible messages per task are 0 while a task keeps up: 15 datapoints below 9, and the last task goes.
    expect(series(t.tasks, TRICKLE)).toContain(0);
    // At zero it waits for more than messagesPerTask (10) visible messages: the last 9 wait to the end of the trace.
    expect(t.backlog[179]).toBe(9);
    expect(t.tasks[179]).toBe(0);
    expect(c.policies['target-tracking'].peakMessageAgeSeconds).toBeGreaterThan(3_000);
    expect(c.policies.mlscale.peakMessageAgeSeconds).toBeLessThan(c.policies['target-tracking'].peakMessageAgeSeconds!);
    expect(c.policies.mlscale.violationMinutes).toBeLessThan(c.policies['target-tracking'].violationMinutes);
  });

  it('violation minutes are the minutes whose oldest message is older than maxMessageAgeSeconds; the age alarm needs 5 of 5', () => {
    const c = day();
    for (const p of POLICIES) {
      const ages = Array.from(c.timelines[p].messageAgeSeconds!);
      expect(ages.filter((a) => a > 120).length, p).toBe(c.policies[p].violationMinutes);
      const alarm = ages.filter((_, m) => m >= 4 && ages.slice(m - 4, m + 1).every((a) => a > 120)).length;
      expect(c.policies[p].messageAgeAlarmMinutes, p).toBe(alarm);
      expect(c.policies[p].peakMessageAgeSeconds, p).toBe(Math.round(Math.max(...ages)));
    }
    expect(c.policies['target-tracking'].messageAgeAlarmMinutes).toBeGreaterThan(0);
  });

  it('the oracle serves each minute\'s messages within it (to max capacity), from zero and back to zero', () => {
    const c = day();
    const t = c.timelines.oracle;
    for (let m = 0; m < 180; m++) {
      const need = Math.max(0, Math.ceil(((m > 0 ? t.backlog[m - 1]! : 0) + BURSTY[m]! * 60) / (2 * 60) - 1e-9));
      expect(t.ready[m], `minute ${m}`).toBe(Math.min(8, need));
    }
    expect(c.policies.oracle.violationMinutes).toBe(0);
    // Scale-in while busy: the tasks that were mid-message finish it (paid) before they stop.
    expect([t.tasks[33], t.ready[33]]).toEqual([8, 6]);
    expect([t.tasks[34], t.ready[34]]).toEqual([6, 0]);
  });

  it('lanes in lockstep give what each gives alone', () => {
    const together = runLockstep(streamOf(minuteTrace(BURSTY)), POLICIES.map((policy) => ({ policy, sim: SIM }))).runs;
    POLICIES.forEach((policy, i) => expect(together[i]!.result, policy).toEqual(simulate(minuteTrace(BURSTY), SIM, policy, { timeline: false }).result));
  });

  it('the first minutes of a trace are not idle for lack of history (missingDataIsIdle): a warm pool stays up', () => {
    const c = compare(minuteTrace(Array(20).fill(1)), SIM, ['mlscale', 'oracle']);
    expect(Array.from(c.timelines.mlscale.tasks).every((x) => x >= 1)).toBe(true);
  });
});

describe('mlscale simulate --pool <batch pool>', () => {
  const DIR = mkdtempSync(path.join(tmpdir(), 'mlscale-batch-'));
  afterAll(() => rmSync(DIR, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const f = path.join(DIR, name);
    writeFileSync(f, content);
    return f;
  };
  const CONFIG = file('mlscale.json', JSON.stringify(batchConfig({ maxMessageAgeSeconds: 120 })));
  const TRACE = file('queue.csv', ['timestamp,load', ...BURSTY.map((v, m) => `${new Date(DAY + m * MINUTE_MS).toISOString()},${v}`)].join('\n'));
  const sim = (...argv: string[]) => runCli('simulate', '--config', CONFIG, '--pool', 'embed-batch', ...argv);
  const oneLineError = (r: CliRun, pattern: RegExp) => {
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: [^\n]+\n$/);
    expect(r.stderr).toMatch(pattern);
  };

  it('--json: the batch pool, the library\'s numbers, its message ages and its notes', async () => {
    const r = await sim('--trace', TRACE, '--json');
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { pool: Record<string, unknown>; policies: Record<string, Record<string, number>>; notes: string[] };
    expect(doc.pool).toMatchObject({ name: 'embed-batch', kind: 'batch', minCapacity: 0, maxCapacity: 8, capacityPerTask: 2 });
    const c = day();
    for (const p of POLICIES) {
      for (const f of ['taskMinutes', 'violationMinutes', 'peakMessageAgeSeconds', 'messageAgeAlarmMinutes', 'flaps', 'flappingHours'] as const) expect(doc.policies[p]![f], `${p}.${f}`).toBe(c.policies[p][f]);
    }
    expect(doc.notes.some((n) => n.startsWith('Batch pool: the trace is messages arriving per second') && n.includes('older than maxMessageAgeSeconds (120 s)'))).toBe(true);
    expect(doc.notes.some((n) => /The peak arrival rate, 20 msg\/s, is above what max capacity serves \(8 tasks × 2 msg\/s = 16 msg\/s\)/.test(n))).toBe(true);
  });

  it('the table adds the oldest message\'s largest age and the age alarm\'s minutes', async () => {
    const r = await sim('--trace', TRACE);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^mlscale simulation: embed-batch \(production\) on queue\.csv: 180 minutes, peak 20 msg\/s$/);
    expect(lines[2]!.split(/\s+/)).toEqual(['POLICY', 'TASK_MIN', 'X_ORACLE', 'COST_USD', 'VIOLATION_MIN', 'VIOLATION_PCT', 'PEAK_BACKLOG', 'SCALE_ACTIONS', 'COLD_STARTS', 'EMERGENCIES', 'FLAPS', 'MAX_AGE_S', 'AGE_ALARM_MIN']);
    const tt = lines[3]!.split(/\s+/);
    expect(tt[0]).toBe('target-tracking');
    expect(tt.slice(-2)).toEqual([String(day().policies['target-tracking'].peakMessageAgeSeconds), String(day().policies['target-tracking'].messageAgeAlarmMinutes)]);
  });

  it('a bad trace for the batch pool: one Error: line, nothing on stdout', async () => {
    oneLineError(await sim('--trace', file('bad.csv', 'timestamp,load\n2026-06-02T00:00:00Z,-3\n')), /trace bad\.csv: line 2: load must be a number >= 0, got '-3'/);
    oneLineError(await sim('--trace', file('none.csv', 'timestamp,latency_ms\n2026-06-02T00:00:00Z,3\n')), /no value column/);
    oneLineError(await sim('--trace', path.join(DIR, 'missing.csv')), /cannot read trace .*missing\.csv \(ENOENT\)/);
  });

  it('--lag-growth on a batch pool, and a batch pool that is not in the config', async () => {
    oneLineError(await sim('--trace', TRACE, '--lag-growth', 'on'), /^Error: --lag-growth: pool 'embed-batch' is a batch pool; lag growth scales an always-on pool on its Kafka lag\n$/);
    oneLineError(await runCli('simulate', '--pool', 'embed-batch', '--trace', TRACE), /--pool: no pool 'embed-batch' in environment production/);
  });
});

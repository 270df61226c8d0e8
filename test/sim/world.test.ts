import { describe, expect, it } from 'vitest';
import { PoolWorld, VIOLATION_BACKLOG_SHARE, type MinuteState } from '../../src/sim/world';

/** 10 req/s per task (600 requests a minute), tasks ready 2 minutes after they are asked for, 40 ms idle p95. */
const MODEL = { capacityPerTask: 10, startupMinutes: 2, baseP95Ms: 40 };

function run(world: PoolWorld, loads: readonly number[], from = 0): MinuteState[] {
  return loads.map((load, i) => world.step(from + i, load));
}

describe('PoolWorld: start-up delay', () => {
  it('a task asked for at minute m is ready at m + startupMinutes, and paid for while it starts', () => {
    const world = new PoolWorld(MODEL, 1);
    expect(world.setDesired(3, 5)).toBe(2);
    const states = run(world, [0, 0, 0], 5);
    expect(states.map((s) => s.ready)).toEqual([1, 1, 3]);
    expect(states.map((s) => s.tasks)).toEqual([3, 3, 3]);
    expect(states.every((s) => s.desired === 3)).toBe(true);
  });

  it('asks for nothing new when desired does not grow', () => {
    const world = new PoolWorld(MODEL, 2);
    expect(world.setDesired(2, 0)).toBe(0);
    expect(world.setDesired(1, 0)).toBe(0);
    expect(world.step(0, 0).tasks).toBe(1);
  });

  it('stops surplus tasks at once, the starting ones first', () => {
    const world = new PoolWorld(MODEL, 2);
    world.setDesired(5, 0);
    world.setDesired(3, 0);
    let s = world.step(0, 0);
    expect([s.ready, s.tasks]).toEqual([2, 3]);
    world.setDesired(1, 1);
    s = world.step(1, 0);
    expect([s.ready, s.tasks]).toEqual([1, 1]);
    // Nothing is left starting: no task turns up later.
    expect(run(world, [0, 0, 0], 2).map((x) => x.tasks)).toEqual([1, 1, 1]);
  });
});

describe('PoolWorld: backlog', () => {
  it('grows while load exceeds ready capacity and drains after', () => {
    const world = new PoolWorld(MODEL, 1);
    // 15 req/s against 10: 300 requests a minute wait; then 5 req/s frees 300 a minute.
    const states = run(world, [15, 15, 15, 5, 5, 5, 5]);
    expect(states.map((s) => s.backlog)).toEqual([300, 600, 900, 600, 300, 0, 0]);
    expect(states.map((s) => s.cpu)).toEqual([100, 100, 100, 100, 100, 100, 50]);
  });

  it('drains faster once more capacity is ready', () => {
    const world = new PoolWorld({ ...MODEL, startupMinutes: 1 }, 1);
    run(world, [20, 20]);
    world.setDesired(4, 2);
    // Minute 2: still 1 ready (backlog 1800); minute 3: 4 ready serve 2400 a minute against 1200 arriving.
    const states = run(world, [20, 20, 20], 2);
    expect(states.map((s) => s.backlog)).toEqual([1800, 600, 0]);
  });
});

describe('PoolWorld: CPU and latency', () => {
  it('CPU is the served share of ready capacity', () => {
    const world = new PoolWorld(MODEL, 2);
    expect(world.step(0, 5).cpu).toBe(25);
  });

  it('has no CPU datapoint at zero ready tasks, with or without load', () => {
    const idle = new PoolWorld(MODEL, 0).step(0, 0);
    expect(idle.cpu).toBeUndefined();
    expect(idle.p95Ms).toBeUndefined();
    expect(idle.violation).toBe(false);
    const starting = new PoolWorld(MODEL, 0);
    starting.setDesired(2, 0);
    const busy = starting.step(0, 3);
    expect(busy.tasks).toBe(2);
    expect(busy.cpu).toBeUndefined();
  });

  it('p95 is base / (1 - 0.8 × utilisation): 5 × base at full utilisation without backlog', () => {
    const world = new PoolWorld(MODEL, 1);
    expect(world.step(0, 0).p95Ms).toBeCloseTo(40, 9);
    expect(world.step(1, 5).p95Ms).toBeCloseTo(40 / 0.6, 9);
    const full = world.step(2, 10);
    expect(full.backlog).toBe(0);
    expect(full.p95Ms).toBeCloseTo(200, 9);
    expect(full.p99Ms).toBeCloseTo(300, 9);
  });

  it('p95 adds the time the backlog takes to drain', () => {
    const s = new PoolWorld(MODEL, 1).step(0, 11);
    // 60 requests left, 10 req/s: 6 s to drain.
    expect(s.backlog).toBeCloseTo(60, 9);
    expect(s.p95Ms).toBeCloseTo(200 + 6000, 6);
  });
});

describe('PoolWorld: SLO violation minutes', () => {
  // One task: 600 requests a minute; the rule allows 5 % of that (30) left over.
  it('is no violation while the backlog stays within 5 % of the minute capacity', () => {
    expect(VIOLATION_BACKLOG_SHARE).toBe(0.05);
    const s = new PoolWorld(MODEL, 1).step(0, 10.4);
    expect(s.backlog).toBeCloseTo(24, 9);
    expect(s.violation).toBe(false);
  });

  it('is a violation once the backlog is more than 5 % of the minute capacity', () => {
    const s = new PoolWorld(MODEL, 1).step(0, 10.6);
    expect(s.backlog).toBeCloseTo(36, 9);
    expect(s.violation).toBe(true);
  });

  it('the 5 % scales with the ready capacity', () => {
    // 4 tasks: 2400 a minute, 120 allowed; 36 left over is fine.
    expect(new PoolWorld(MODEL, 4).step(0, 40.6).violation).toBe(false);
    expect(new PoolWorld(MODEL, 4).step(0, 42.5).violation).toBe(true);
  });

  it('is a violation when work arrives, or waits, with no ready task', () => {
    expect(new PoolWorld(MODEL, 0).step(0, 0.01).violation).toBe(true);
    const world = new PoolWorld(MODEL, 1);
    world.step(0, 20);
    world.setDesired(0, 1);
    const waiting = world.step(1, 0);
    expect(waiting.backlog).toBe(600);
    expect(waiting.violation).toBe(true);
    expect(waiting.p95Ms).toBe(60_000);
  });
});

describe('PoolWorld: queue depth', () => {
  it('is the backlog plus the work in flight (arrival rate × half the p95)', () => {
    const world = new PoolWorld(MODEL, 1);
    const calm = world.step(0, 5);
    expect(calm.backlog).toBe(0);
    expect(calm.queueDepth).toBeCloseTo(5 * (calm.p95Ms! / 2000), 9);
    const busy = world.step(1, 12);
    expect(busy.backlog).toBeCloseTo(120, 9);
    expect(busy.queueDepth).toBeCloseTo(120 + 12 * (busy.p95Ms! / 2000), 9);
  });

  it('is the backlog alone with no ready task', () => {
    const s = new PoolWorld(MODEL, 0).step(0, 2);
    expect(s.backlog).toBe(120);
    expect(s.queueDepth).toBe(120);
  });
});

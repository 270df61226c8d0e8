import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IncidentStore } from '../../lambdas/aws/incident-store';
import type { Limits, ScalableTarget, TargetState } from '../../lambdas/aws/target-types';
import { incidentSuspension, OPENING_TIMEOUT_MS, planEmergency, type IncidentRecord, type IncidentStatus, type Suspension } from '../../lambdas/core/emergency';
import type { ExistingAction } from '../../lambdas/core/prescale-plan';
import { emergencyCeiling, parseTargetsDocument, type TargetSpec } from '../../lambdas/core/targets';
import { resumeEmergency, triggerEmergency, type EmergencyOutcome } from '../../lambdas/emergency/procedure';

/** Lets the fakes yield to a scheduler before each effect, so concurrent calls interleave. */
type Tick = () => Promise<void>;
const noTick: Tick = () => Promise.resolve();

interface Knobs {
  desired: number;
  min: number;
  max: number;
  suspension: Suspension;
}

/** An Application Auto Scaling target in memory: desired stays within [min, max] as AAS keeps it. */
class FakeTarget implements ScalableTarget {
  /** Every desired capacity the procedure set, in order. */
  readonly desiredWrites: number[] = [];
  /** The next change that sets desired fails before it takes effect. */
  failNextDesiredChange = false;

  constructor(
    readonly spec: TargetSpec,
    public knobs: Knobs,
    private readonly tick: Tick = noTick,
  ) {}

  async read(): Promise<TargetState> {
    await this.tick();
    const k = this.knobs;
    return { ...k, running: k.desired, pending: 0, paused: false, registered: true, status: 'ACTIVE' };
  }

  async setDesired(desired: number): Promise<void> {
    await this.tick();
    this.desiredWrites.push(desired);
    this.knobs = { ...this.knobs, desired: Math.min(this.knobs.max, Math.max(this.knobs.min, desired)) };
  }

  async setLimits(limits: Limits): Promise<void> {
    await this.tick();
    if (this.failNextDesiredChange && limits.desired !== undefined) {
      this.failNextDesiredChange = false;
      throw new Error('ThrottlingException: Rate exceeded');
    }
    if (limits.desired !== undefined) this.desiredWrites.push(limits.desired);
    const desired = limits.desired ?? this.knobs.desired;
    this.knobs = {
      min: limits.min,
      max: limits.max,
      suspension: limits.suspension ?? this.knobs.suspension,
      desired: Math.min(limits.max, Math.max(limits.min, desired)),
    };
  }

  /** What target tracking would do: move desired unless that direction is suspended. */
  autoscale(to: number): void {
    const k = this.knobs;
    if ((to < k.desired && k.suspension.dynamicIn) || (to > k.desired && k.suspension.dynamicOut)) return;
    this.knobs = { ...k, desired: Math.min(k.max, Math.max(k.min, to)) };
  }

  async listScheduledActions(): Promise<ExistingAction[]> {
    return [];
  }

  async putScheduledAction(): Promise<void> {
    throw new Error('not used by the emergency procedure');
  }

  async deleteScheduledAction(): Promise<void> {
    throw new Error('not used by the emergency procedure');
  }
}

/** The DynamoDB store's semantics: claim only when no incident is open; settle only the incident it names. */
class MemoryIncidentStore implements IncidentStore {
  readonly atomic = true;
  private readonly items = new Map<string, IncidentRecord>();

  constructor(private readonly tick: Tick = noTick) {}

  async current(target: string): Promise<IncidentRecord | undefined> {
    await this.tick();
    return this.items.get(target);
  }

  /** Same rule as the DynamoDB store: free, over, or an `opening` claim older than the timeout. */
  async claim(record: IncidentRecord, now: Date): Promise<boolean> {
    await this.tick();
    const held = this.items.get(record.target);
    const stale = held?.status === 'opening' && now.getTime() - Date.parse(held.openedAt) >= OPENING_TIMEOUT_MS;
    if ((held?.status === 'open' || held?.status === 'opening') && !stale) return false;
    this.items.set(record.target, { ...record, status: 'opening' });
    return true;
  }

  async open(record: IncidentRecord): Promise<void> {
    await this.tick();
    const held = this.items.get(record.target);
    if (held?.incidentId !== record.incidentId || held.status !== 'opening') throw new Error('ConditionalCheckFailedException');
    this.items.set(record.target, { ...record, status: 'open' });
  }

  async settle(record: IncidentRecord, status: Exclude<IncidentStatus, 'open' | 'opening'>, at: Date): Promise<void> {
    await this.tick();
    if (this.items.get(record.target)?.incidentId !== record.incidentId) throw new Error('ConditionalCheckFailedException');
    this.items.set(record.target, { ...record, status, closedAt: at.toISOString() });
  }

  peek(target: string): IncidentRecord | undefined {
    return this.items.get(target);
  }
}

function specFor(max: number, min: number, ceiling?: number): TargetSpec {
  const doc = parseTargetsDocument({
    targets: [
      {
        name: 'engine',
        kind: 'ecs-service',
        cluster: 'pipestream',
        service: 'engine',
        pool: 'always-on',
        minCapacity: min,
        maxCapacity: max,
        ...(ceiling === undefined ? {} : { emergencyCeiling: ceiling }),
      },
    ],
  });
  return doc.targets[0]!;
}

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);
const limitsOf = (k: Knobs) => ({ min: k.min, max: k.max, suspension: k.suspension });

describe('Function: triggerEmergency', () => {
  it('doubles, raises min and suspends scale-in and scheduled scaling, recording what was there', async () => {
    const spec = specFor(10, 2);
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    const store = new MemoryIncidentStore();
    const outcome = await triggerEmergency(spec, target, store, 'alarm x-engine-emergencyLatency', at(0));
    expect(outcome).toMatchObject({ outcome: 'doubled', from: 3, to: 6, min: 6, max: 20, incidentId: 'engine-20260601-120000' });
    expect(target.knobs).toEqual({ desired: 6, min: 6, max: 20, suspension: { dynamicIn: true, dynamicOut: false, scheduled: true } });
    expect(store.peek('engine')).toMatchObject({ status: 'open', before: { desired: 3, min: 2, max: 10, registered: true }, after: { desired: 6, min: 6, max: 20 } });
  });

  it('does nothing on a repeated trigger of an open incident', async () => {
    const spec = specFor(10, 2);
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    const store = new MemoryIncidentStore();
    await triggerEmergency(spec, target, store, 'a', at(0));
    const again = await triggerEmergency(spec, target, store, 'b', at(3));
    expect(again).toMatchObject({ outcome: 'already-open', incidentId: 'engine-20260601-120000' });
    expect(target.desiredWrites).toEqual([6]);
  });

  it('reports at-ceiling when the emergency ceiling caps the doubling', async () => {
    const spec = specFor(10, 2, 12);
    const target = new FakeTarget(spec, { desired: 8, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    const outcome = await triggerEmergency(spec, target, new MemoryIncidentStore(), 'a', at(0));
    expect(outcome).toMatchObject({ outcome: 'at-ceiling', from: 8, to: 12, max: 12 });
  });

  it('puts the limits back and marks the incident failed when the change fails', async () => {
    const spec = specFor(10, 2);
    const suspension = { dynamicIn: false, dynamicOut: true, scheduled: false };
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension });
    target.failNextDesiredChange = true;
    const store = new MemoryIncidentStore();
    await expect(triggerEmergency(spec, target, store, 'a', at(0))).rejects.toThrow(/ThrottlingException/);
    expect(target.knobs).toEqual({ desired: 3, min: 2, max: 10, suspension });
    expect(store.peek('engine')?.status).toBe('failed');
    // The failed incident does not block the next one.
    expect((await triggerEmergency(spec, target, store, 'b', at(1))).outcome).toBe('doubled');
  });

  it('refuses a target with emergency doubling disabled', async () => {
    const spec = { ...specFor(10, 2), emergencyEnabled: false };
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    await expect(triggerEmergency(spec, target, new MemoryIncidentStore(), 'a', at(0))).rejects.toThrow(/disabled/);
    expect(target.desiredWrites).toEqual([]);
  });
});

describe('Function: resumeEmergency', () => {
  it('restores min, max and switches, and desired only when asked', async () => {
    const spec = specFor(10, 2);
    const suspension = { dynamicIn: false, dynamicOut: true, scheduled: false };
    for (const restoreDesired of [false, true]) {
      const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension });
      const store = new MemoryIncidentStore();
      await triggerEmergency(spec, target, store, 'a', at(0));
      const outcome = await resumeEmergency(spec, target, store, restoreDesired, at(20));
      expect(outcome).toMatchObject({ outcome: 'resumed', min: 2, max: 10 });
      expect(target.knobs).toEqual({ desired: restoreDesired ? 3 : 6, min: 2, max: 10, suspension });
      expect(store.peek('engine')).toMatchObject({ status: 'resumed', closedAt: at(20).toISOString() });
    }
  });

  it('does nothing without an open incident', async () => {
    const spec = specFor(10, 2);
    const knobs = { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } };
    const target = new FakeTarget(spec, knobs);
    expect((await resumeEmergency(spec, target, new MemoryIncidentStore(), true, at(0))).outcome).toBe('no-open-incident');
    expect(target.knobs).toEqual(knobs);
  });
});

// ---- model-based: doubling at most once per incident under any interleaving of triggers ----

type Step =
  | { readonly kind: 'triggers'; readonly count: number; readonly fail: boolean }
  | { readonly kind: 'resume'; readonly restoreDesired: boolean }
  | { readonly kind: 'autoscale'; readonly to: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('triggers' as const), count: fc.integer({ min: 1, max: 5 }), fail: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resume' as const), restoreDesired: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('autoscale' as const), to: fc.integer({ min: 0, max: 40 }) }) },
);

const setupArb = fc
  .record({
    a: fc.integer({ min: 0, max: 8 }),
    b: fc.integer({ min: 0, max: 8 }),
    max: fc.integer({ min: 1, max: 12 }),
    extraCeiling: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    suspension: fc.record({ dynamicIn: fc.boolean(), dynamicOut: fc.boolean(), scheduled: fc.boolean() }),
  })
  .map(({ a, b, max, extraCeiling, suspension }) => {
    const min = Math.min(a, b, max);
    const desired = Math.min(Math.max(a, b), max);
    return { knobs: { desired, min, max, suspension }, spec: specFor(max, min, extraCeiling === undefined ? undefined : max + extraCeiling) };
  });

const isDoubling = (o: PromiseSettledResult<EmergencyOutcome>) => o.status === 'fulfilled' && (o.value.outcome === 'doubled' || o.value.outcome === 'at-ceiling');

describe('Function: triggerEmergency / resumeEmergency (model)', () => {
  it('doubles exactly once per incident under any interleaving of concurrent triggers, and resume restores the limits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), setupArb, fc.array(stepArb, { minLength: 1, maxLength: 12 }), async (s, setup, steps) => {
        const tick: Tick = () => s.schedule(Promise.resolve());
        const { spec } = setup;
        const target = new FakeTarget(spec, setup.knobs, tick);
        const store = new MemoryIncidentStore(tick);
        const ceiling = emergencyCeiling(spec);
        /** Limits before the open incident, when one is open. */
        let open: Knobs | undefined;

        for (const [i, step] of steps.entries()) {
          const now = at(i);
          const before = target.knobs;
          const writesBefore = target.desiredWrites.length;

          if (step.kind === 'autoscale') {
            target.autoscale(step.to);
            continue;
          }

          if (step.kind === 'resume') {
            const outcome = await s.waitFor(resumeEmergency(spec, target, store, step.restoreDesired, now));
            if (open) {
              expect(outcome.outcome).toBe('resumed');
              expect(limitsOf(target.knobs)).toEqual(limitsOf(open));
              if (step.restoreDesired) expect(target.knobs.desired).toBe(open.desired);
              expect(store.peek(spec.name)?.status).toBe('resumed');
              open = undefined;
            } else {
              expect(outcome.outcome).toBe('no-open-incident');
              expect(target.knobs).toEqual(before);
            }
            expect(target.desiredWrites.length - writesBefore).toBeLessThanOrEqual(1);
            continue;
          }

          target.failNextDesiredChange = step.fail;
          const pending = Promise.allSettled(Array.from({ length: step.count }, (_, n) => triggerEmergency(spec, target, store, `trigger ${n}`, now)));
          const outcomes = await s.waitFor(pending);
          const doublings = outcomes.filter(isDoubling).length;
          const writes = target.desiredWrites.slice(writesBefore);

          if (open) {
            // An open incident: every trigger is a no-op.
            expect(outcomes.every((o) => o.status === 'fulfilled' && o.value.outcome === 'already-open')).toBe(true);
            expect(target.knobs).toEqual(before);
            expect(writes).toEqual([]);
          } else {
            expect(doublings).toBeLessThanOrEqual(1);
            // Without an injected failure, one of the triggers always opens the incident.
            if (!step.fail) expect(doublings).toBe(1);
            // Only the injected failure may reject.
            expect(outcomes.filter((o) => o.status === 'rejected').length).toBeLessThanOrEqual(step.fail ? 1 : 0);
            if (doublings === 1) {
              const plan = planEmergency(before, ceiling);
              expect(writes).toEqual([plan.after.desired]);
              expect(target.knobs).toEqual({ ...plan.after, suspension: incidentSuspension(before.suspension) });
              expect(store.peek(spec.name)).toMatchObject({ status: 'open', before: { ...limitsOf(before), desired: before.desired } });
              open = before;
            } else {
              expect(writes).toEqual([]);
              expect(target.knobs).toEqual(before);
              expect(store.peek(spec.name)?.status).toBe('failed');
            }
          }
          target.failNextDesiredChange = false;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: triggerEmergency racing resumeEmergency', () => {
  it('leaves nothing raised when a resume runs while a trigger is between its claim and its change', async () => {
    const spec = specFor(10, 2);
    // The target's second call (the trigger's read, after its claim) waits until the resume has run.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } }, () =>
      calls++ === 0 ? gate : Promise.resolve(),
    );
    const store = new MemoryIncidentStore();
    const trigger = triggerEmergency(spec, target, store, 'alarm', at(0));
    await new Promise((r) => setTimeout(r, 0));
    // The claim is 'opening': resume finds nothing to resume and changes nothing.
    expect((await resumeEmergency(spec, target, store, false, at(1))).outcome).toBe('no-open-incident');
    release();
    expect((await trigger).outcome).toBe('doubled');
    // The incident is open with the true state before it, so the runbook's resume will restore it.
    expect(store.peek('engine')).toMatchObject({ status: 'open', before: { desired: 3, min: 2, max: 10 } });
    expect((await resumeEmergency(spec, target, store, false, at(20))).outcome).toBe('resumed');
    expect(target.knobs).toMatchObject({ min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
  });

  it('leaves nothing raised when a resume runs while the doubling is landing', async () => {
    const spec = specFor(10, 2);
    // The target's second call (the trigger's change) waits until the resume has run.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } }, () =>
      calls++ === 1 ? gate : Promise.resolve(),
    );
    const store = new MemoryIncidentStore();
    const trigger = triggerEmergency(spec, target, store, 'alarm', at(0));
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
    expect((await resumeEmergency(spec, target, store, false, at(1))).outcome).toBe('resumed');
    release();
    expect((await trigger).outcome).toBe('resumed');
    expect(target.knobs).toMatchObject({ min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    expect(store.peek('engine')?.status).toBe('resumed');
  });

  it('lets a new trigger take over an opening claim abandoned for longer than the timeout', async () => {
    const spec = specFor(10, 2);
    const target = new FakeTarget(spec, { desired: 3, min: 2, max: 10, suspension: { dynamicIn: false, dynamicOut: false, scheduled: false } });
    const store = new MemoryIncidentStore();
    // A trigger that died after claiming.
    await store.claim({ target: 'engine', incidentId: 'engine-dead', status: 'opening', openedAt: at(0).toISOString(), trigger: 'x' }, at(0));
    expect((await triggerEmergency(spec, target, store, 'alarm', at(1))).outcome).toBe('already-open');
    expect((await triggerEmergency(spec, target, store, 'alarm', at(6))).outcome).toBe('doubled');
  });
});

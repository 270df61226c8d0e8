import { describe, expect, it } from 'vitest';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { planScale, ScaleRequestError } from '../../lambdas/core/manual-scale';

const NOW = new Date('2026-12-02T10:00:00Z');
const S = NOW.getTime() / 1000;
/** engine: 2-10, emergency ceiling 20 (max × 2). */
const ENGINE = { name: 'engine', kind: 'ecs-service', minCapacity: 2, maxCapacity: 10, emergencyCeiling: 20 } as unknown as TargetSpec;
const req = (replicas: number, extra: Partial<Parameters<typeof planScale>[1]> = {}) => ({ replicas, raiseMax: false, forSeconds: 3600, user: 'alice', now: NOW, ...extra });

describe('Function: planScale (mlscale scale as a hold)', () => {
  it('a manual floor at the replicas asked for, for --for, naming who asked', () => {
    expect(planScale(ENGINE, req(6))).toEqual({
      hold: { target: 'engine', holder: 'manual', floor: 6, reason: 'mlscale scale --replicas 6 by alice', createdAt: S, expiresAt: S + 3600 },
      release: [],
      desired: 6,
      warnings: [],
    });
  });

  it('--min sets the floor below the replicas, so the autoscaler may scale in to it', () => {
    const plan = planScale(ENGINE, req(6, { min: 3 }));
    expect(plan.hold.floor).toBe(3);
    expect(plan.desired).toBe(6);
  });

  it('above max: scheduled at max with a warning, unless --raise-max, which raises the ceiling up to the emergency ceiling', () => {
    expect(planScale(ENGINE, req(14))).toMatchObject({ desired: 10, hold: { floor: 10 }, warnings: ['only scheduled 10 replicas (max capacity 10; use --raise-max to go up to the ceiling 20)'] });
    const raised = planScale(ENGINE, req(14, { raiseMax: true }));
    expect(raised).toMatchObject({ desired: 14, hold: { floor: 14, ceiling: 14 }, warnings: [] });
  });

  it('--replicas 0 is the pause hold (every kind of automatic scaling suspended), replacing a manual floor', () => {
    expect(planScale(ENGINE, req(0))).toMatchObject({
      hold: { holder: 'pause', suspendScaleIn: true, suspendScaleOut: true, suspendScheduled: true },
      release: ['manual'],
      desired: 0,
    });
  });

  it.each([
    [req(3, { min: 5 }), '--min 5 is above --replicas 3 (desired cannot be below min)'],
    [req(21, { raiseMax: true }), '--replicas 21 is above the emergency ceiling 20 of engine (--raise-max goes up to the ceiling, no further)'],
  ])('refuses what cannot be held, as a ScaleRequestError', (request, message) => {
    expect(() => planScale(ENGINE, request)).toThrow(ScaleRequestError);
    expect(() => planScale(ENGINE, request)).toThrow(message);
  });
});

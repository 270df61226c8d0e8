import { describe, expect, it } from 'vitest';
import { idleVerdict, PUBLISH_DELAY_MINUTES, wakeHold, workState, type IdlePolicy, type Observation, type WorkState } from '../../lambdas/core/work';

const MINUTE = 60_000;
/** 12:00:30Z: half a minute into the minute. */
const NOW = Date.UTC(2026, 5, 1, 12, 0, 30);
const NOW_MINUTE = Math.floor(NOW / MINUTE) * MINUTE;
const S = Math.floor(NOW / 1000);
const POLICY: IdlePolicy = { idleMinutes: 5, missingDataIsIdle: false, gpuIdlePercent: 5 };

/** One datapoint per minute, oldest first, the newest `ageMinutes` minutes before the current one. */
function series(values: readonly (number | null)[], ageMinutes = 1): Observation {
  const end = NOW_MINUTE - ageMinutes * MINUTE;
  const points = values.map((v, i) => ({ t: end - (values.length - 1 - i) * MINUTE, v })).filter((p): p is { t: number; v: number } => p.v !== null);
  return { points };
}

const state = (work: Observation, extra: { inFlight?: Observation; gpu?: Observation } = {}, policy: Partial<IdlePolicy> = {}) =>
  workState({ work, ...extra }, { ...POLICY, ...policy }, NOW);

describe('Function: workState', () => {
  it('sees pending work in a fresh datapoint', () => {
    expect(state(series([0, 0, 7]))).toMatchObject({ state: 'work', pending: 7 });
    expect(state(series([0, 0, 7], 3)).state).toBe('work');
  });

  it('does not wake on work in a stale datapoint: the metric has stopped, and that is not idle either', () => {
    const s = state(series([0, 0, 0, 7], 4));
    expect(s.state).toBe('busy');
  });

  it('is unknown when the work metric is unreadable or has no datapoints at all', () => {
    expect(state({ points: [], error: 'InternalError' })).toMatchObject({ state: 'unknown', reason: expect.stringContaining('unreadable') });
    expect(state({ points: [] })).toMatchObject({ state: 'unknown', reason: expect.stringContaining('never committed') });
    // Opted in to missing-is-idle: an empty series is idle.
    expect(state({ points: [] }, {}, { missingDataIsIdle: true }).state).toBe('idle');
  });

  it('is idle after idleMinutes of zeros ending now', () => {
    expect(state(series([0, 0, 0, 0, 0]))).toMatchObject({ state: 'idle', reason: 'no work for 5 minutes' });
  });

  it('lets the newest minutes of the window be missing while CloudWatch publishes them, but no more', () => {
    // The last PUBLISH_DELAY_MINUTES complete minutes may still be on their way.
    expect(state(series([0, 0, 0, 0, 0], 1 + PUBLISH_DELAY_MINUTES)).state).toBe('idle');
    // One minute more of silence at the end of the window is unknown, not idle.
    const stale = state(series([0, 0, 0, 0, 0, 0], 2 + PUBLISH_DELAY_MINUTES));
    expect(stale).toMatchObject({ state: 'busy', reason: expect.stringContaining('no datapoint at 11:58Z') });
  });

  it('treats a gap inside the window as unknown unless the target opts in', () => {
    expect(state(series([0, 0, null, 0, 0])).state).toBe('busy');
    expect(state(series([0, 0, null, 0, 0]), {}, { missingDataIsIdle: true }).state).toBe('idle');
  });

  it('is not idle with work inside the window, in flight, or on a busy GPU', () => {
    expect(state(series([0, 3, 0, 0, 0])).state).toBe('busy');
    expect(state(series([0, 0, 0, 0, 0]), { inFlight: series([0, 0, 1, 0, 0]) })).toMatchObject({ state: 'busy', reason: expect.stringContaining('in-flight') });
    expect(state(series([0, 0, 0, 0, 0]), { gpu: series([2, 40, 3, 1, 0]) })).toMatchObject({ state: 'busy', reason: expect.stringContaining('GPU utilisation 40') });
    expect(state(series([0, 0, 0, 0, 0]), { gpu: series([2, 4, 3, 1, 0]) }).state).toBe('idle');
  });

  it('a GPU pool whose utilisation has gaps (or was never published) is not idle: a job may be running unseen (issue #8)', () => {
    expect(state(series([0, 0, 0, 0, 0]), { gpu: { points: [] } })).toMatchObject({ state: 'busy', reason: expect.stringContaining('GPU utilisation has no datapoint') });
    expect(state(series([0, 0, 0, 0, 0]), { gpu: series([2, null, 3, 1, 0]) }).state).toBe('busy');
    // Opting in to missing data as idle covers the GPU signal too.
    expect(state(series([0, 0, 0, 0, 0]), { gpu: { points: [] } }, { missingDataIsIdle: true }).state).toBe('idle');
    // An unreadable in-flight metric proves nothing.
    expect(state(series([0, 0, 0, 0, 0]), { inFlight: { points: [], error: 'Forbidden' } }).state).toBe('busy');
  });
});

describe('Function: wakeHold', () => {
  const spec = { name: 'gpu-modules', idleMinutes: 5, scaleFromZeroTo: 2 };
  const work: WorkState = { state: 'work', pending: 4, reason: '4 pending at 11:59Z' };
  const busy: WorkState = { state: 'busy', reason: 'in-flight work 1 at 11:58Z' };
  const idle: WorkState = { state: 'idle', reason: 'no work for 5 minutes' };
  const unknown: WorkState = { state: 'unknown', reason: 'work metric has no datapoints' };

  it('writes a wake floor while there is work, ending a little after the idle window', () => {
    const h = wakeHold(spec, work, 0, undefined, NOW);
    expect(h).toMatchObject({ target: 'gpu-modules', holder: 'wake', floor: 2, createdAt: S, expiresAt: S + 6 * 60 });
    expect(h!.reason).toContain('work pending');
  });

  it('renews only when half of the hold has run out, and lets it lapse when idle', () => {
    const existing = wakeHold(spec, work, 0, undefined, NOW)!;
    expect(wakeHold(spec, work, 2, existing, NOW + 60_000)).toBeUndefined();
    expect(wakeHold(spec, work, 2, existing, NOW + 4 * 60_000)?.expiresAt).toBe(S + 4 * 60 + 6 * 60);
    expect(wakeHold(spec, idle, 2, existing, NOW + 60_000)).toBeUndefined();
  });

  it('keeps a running target up while it is busy, but never wakes one at zero without pending work', () => {
    expect(wakeHold(spec, busy, 1, undefined, NOW)?.reason).toContain('not idle yet');
    expect(wakeHold(spec, busy, 0, undefined, NOW)).toBeUndefined();
  });

  it('probes a target whose work is unknown at zero, on the clock, when it opted in', () => {
    const probing = { ...spec, probe: { everyMinutes: 60, forMinutes: 10 } };
    expect(wakeHold(spec, unknown, 0, undefined, Date.UTC(2026, 5, 1, 12, 0, 30))).toBeUndefined();
    const h = wakeHold(probing, unknown, 0, undefined, Date.UTC(2026, 5, 1, 12, 0, 30));
    expect(h).toMatchObject({ holder: 'wake', floor: 1, expiresAt: S + 600 });
    expect(h!.reason).toContain('probe');
    expect(wakeHold(probing, unknown, 0, undefined, Date.UTC(2026, 5, 1, 12, 17, 30))).toBeUndefined();
  });

  it('lets a probe lapse into idleness, but never a real unknown without a probe', () => {
    expect(idleVerdict({}, unknown).idle).toBe(false);
    expect(idleVerdict({ probe: { everyMinutes: 60, forMinutes: 10 } }, unknown)).toMatchObject({ idle: true, reason: expect.stringContaining('probe over') });
    expect(idleVerdict({}, idle).idle).toBe(true);
    expect(idleVerdict({}, busy).idle).toBe(false);
  });
});

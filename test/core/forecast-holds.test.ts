import { describe, expect, it } from 'vitest';
import { forecastHolds, predictiveHolder, type ForecastFloorInput } from '../../lambdas/core/forecast-holds';

const utc = (s: string) => Date.parse(s);
const secs = (s: string) => utc(s) / 1000;

function input(over: Partial<ForecastFloorInput> = {}): ForecastFloorInput {
  return {
    target: 'engine',
    firstHour: utc('2026-06-01T11:00:00Z'),
    load: [100, 350, 100, 100, 100, 100],
    perReplica: 50,
    headroom: 0,
    leadMinutes: 10,
    min: 2,
    max: 10,
    now: utc('2026-06-01T11:05:00Z'),
    ...over,
  };
}

describe('Function: forecastHolds', () => {
  it('writes a floor per coming hour, in force from lead minutes before the hour to lead before the next', () => {
    const { holds, replicas } = forecastHolds(input());
    expect(replicas).toEqual([2, 7, 2, 2, 2, 2]);
    expect(holds).toEqual([
      expect.objectContaining({ holder: 'predictive:2026-06-01T12', floor: 7, startsAt: secs('2026-06-01T11:50:00Z'), expiresAt: secs('2026-06-01T12:50:00Z') }),
    ]);
    expect(holds[0]!.reason).toContain('forecast 350.0 req/s for 12:00Z needs 7');
  });

  it('applies headroom, clamps to max, and writes nothing for hours the minimum covers', () => {
    const { holds, replicas } = forecastHolds(input({ load: [400, 900, 40], headroom: 0.1 }));
    expect(replicas).toEqual([9, 10, 2]);
    expect(holds.map((h) => [h.holder, h.floor])).toEqual([
      ['predictive:2026-06-01T11', 9],
      ['predictive:2026-06-01T12', 10],
    ]);
  });

  it('writes only the next `windows` hours, so a stopped predictive Lambda leaves floors that end soon', () => {
    const { holds } = forecastHolds(input({ load: [400, 400, 400, 400, 400, 400], windows: 2 }));
    expect(holds.map((h) => h.holder)).toEqual(['predictive:2026-06-01T11', 'predictive:2026-06-01T12']);
    expect(Math.max(...holds.map((h) => h.expiresAt))).toBe(secs('2026-06-01T12:50:00Z'));
  });

  it('skips a window that is already over at the run', () => {
    const { holds } = forecastHolds(input({ load: [400, 400, 400], now: utc('2026-06-01T11:55:00Z') }));
    expect(holds.map((h) => h.holder)).toEqual(['predictive:2026-06-01T12', 'predictive:2026-06-01T13']);
  });

  it('names holders by the UTC hour', () => {
    expect(predictiveHolder(utc('2026-12-02T09:00:00Z'))).toBe('predictive:2026-12-02T09');
  });
});

import { describe, expect, it } from 'vitest';
import type { AlarmSpec, MissingData } from '../../lambdas/core/config/alarm-specs';
import { evaluateAlarm } from '../../src/sim/alarm-eval';

function alarm(overrides: Partial<AlarmSpec> = {}): AlarmSpec {
  return {
    kind: 'emergencyLatency',
    metric: { namespace: 'Test', metricName: 'Latency', dimensions: {}, statistic: 'p95' },
    perTask: false,
    comparison: 'GreaterThanThreshold',
    threshold: 200,
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: 'missing',
    rule: 'test',
    ...overrides,
  };
}

const U = undefined;
const HIGH = 300;
const LOW = 100;

describe('evaluateAlarm: M of N', () => {
  const threeOfFive = alarm({ evaluationPeriods: 5, datapointsToAlarm: 3 });

  it('alarms with M breaching datapoints among the last N, anywhere in the window', () => {
    expect(evaluateAlarm(threeOfFive, [HIGH, LOW, HIGH, LOW, HIGH], 4)).toBe('ALARM');
    expect(evaluateAlarm(threeOfFive, [LOW, LOW, HIGH, HIGH, HIGH], 4)).toBe('ALARM');
  });

  it('is OK with M - 1 breaching', () => {
    expect(evaluateAlarm(threeOfFive, [HIGH, LOW, LOW, LOW, HIGH], 4)).toBe('OK');
  });

  it('looks only at the N datapoints ending at `newest`', () => {
    const s = [HIGH, HIGH, HIGH, LOW, LOW, LOW, LOW, LOW];
    expect(evaluateAlarm(threeOfFive, s, 4)).toBe('ALARM');
    expect(evaluateAlarm(threeOfFive, s, 5)).toBe('OK');
    // Datapoints after `newest` have not been seen yet.
    expect(evaluateAlarm(alarm(), [LOW, LOW, LOW, HIGH, HIGH, HIGH], 2)).toBe('OK');
  });

  it('breaches strictly above the threshold', () => {
    expect(evaluateAlarm(alarm(), [200, 200, 200], 2)).toBe('OK');
    expect(evaluateAlarm(alarm(), [200.1, 201, 999], 2)).toBe('ALARM');
  });

  it('treats minutes before the series began as missing', () => {
    expect(evaluateAlarm(alarm(), [HIGH, HIGH], 1)).toBe('OK');
    expect(evaluateAlarm(alarm({ treatMissingData: 'breaching' }), [HIGH, HIGH], 1)).toBe('ALARM');
  });
});

describe('evaluateAlarm: LessThanThreshold', () => {
  const below = alarm({ comparison: 'LessThanThreshold', threshold: 1 });

  it('breaches strictly below the threshold', () => {
    expect(evaluateAlarm(below, [0, 0.5, 0.99], 2)).toBe('ALARM');
    expect(evaluateAlarm(below, [0, 0, 1], 2)).toBe('OK');
    expect(evaluateAlarm(below, [5, 5, 5], 2)).toBe('OK');
  });
});

describe('evaluateAlarm: treatMissingData', () => {
  const treat = (t: MissingData, s: (number | undefined)[], m = 3, n = 3) => evaluateAlarm(alarm({ treatMissingData: t, evaluationPeriods: n, datapointsToAlarm: m }), s, s.length - 1);

  describe('missing', () => {
    it('is INSUFFICIENT_DATA when every datapoint is missing', () => {
      expect(treat('missing', [U, U, U])).toBe('INSUFFICIENT_DATA');
    });
    it('evaluates the datapoints present when some are missing', () => {
      expect(treat('missing', [U, HIGH, HIGH])).toBe('OK');
      expect(treat('missing', [U, HIGH, HIGH], 2)).toBe('ALARM');
      expect(treat('missing', [U, LOW, U])).toBe('OK');
    });
  });

  describe('notBreaching', () => {
    it('is OK when every datapoint is missing', () => {
      expect(treat('notBreaching', [U, U, U])).toBe('OK');
      expect(treat('notBreaching', [U, U, U], 1)).toBe('OK');
    });
    it('counts a missing datapoint as good', () => {
      expect(treat('notBreaching', [HIGH, U, HIGH])).toBe('OK');
      expect(treat('notBreaching', [HIGH, U, HIGH], 2)).toBe('ALARM');
    });
  });

  describe('breaching', () => {
    it('alarms when every datapoint is missing', () => {
      expect(treat('breaching', [U, U, U])).toBe('ALARM');
    });
    it('counts a missing datapoint as bad', () => {
      expect(treat('breaching', [HIGH, U, HIGH])).toBe('ALARM');
      expect(treat('breaching', [LOW, U, HIGH])).toBe('OK');
      expect(treat('breaching', [LOW, U, HIGH], 2)).toBe('ALARM');
    });
  });

  describe('ignore', () => {
    it('evaluates the datapoints present when some are missing, like missing', () => {
      expect(treat('ignore', [U, HIGH, HIGH])).toBe('OK');
      expect(treat('ignore', [U, HIGH, HIGH], 2)).toBe('ALARM');
      expect(treat('ignore', [HIGH, U, LOW], 1)).toBe('ALARM');
    });
    it('never alarms on a window of missing data (stateless: INSUFFICIENT_DATA rather than keeping the previous state)', () => {
      expect(treat('ignore', [U, U, U])).toBe('INSUFFICIENT_DATA');
      expect(treat('ignore', [HIGH, HIGH, HIGH, U, U, U])).toBe('INSUFFICIENT_DATA');
    });
  });
});

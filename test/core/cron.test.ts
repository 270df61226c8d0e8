import { describe, expect, it } from 'vitest';
import { cronFirings, cronMatches, isTimeZone, parseCron, wallClock } from '../../lambdas/core/cron';

const iso = (ms: readonly number[]) => ms.map((t) => new Date(t).toISOString());
const utc = (s: string) => Date.parse(s);

/** Firings of `expression` in [from, to) as ISO strings. */
const firings = (expression: string, from: string, to: string, timeZone = 'UTC') => iso(cronFirings(parseCron(expression), utc(from), utc(to), timeZone));

describe('Function: parseCron', () => {
  it('parses the six AWS fields, with or without the cron() wrapper', () => {
    const cron = parseCron('cron(0 8 ? * MON-FRI *)');
    expect([...cron.minutes]).toEqual([0]);
    expect([...cron.hours]).toEqual([8]);
    expect(cron.daysOfMonth).toBeUndefined();
    expect([...cron.daysOfWeek!]).toEqual([2, 3, 4, 5, 6]);
    expect(cron.months.size).toBe(12);
    expect(cron.years).toBe('any');
  });

  it('reads month and day names in any case', () => {
    const cron = parseCron('0 0 1 jan-Mar,DEC ? *');
    expect([...cron.months]).toEqual([1, 2, 3, 12]);
    expect([...parseCron('0 0 ? * sun,SAT *').daysOfWeek!]).toEqual([1, 7]);
  });

  it('expands steps from a start and from *', () => {
    expect([...parseCron('5/20 * * * ? *').minutes]).toEqual([5, 25, 45]);
    expect([...parseCron('*/15 * * * ? *').minutes]).toEqual([0, 15, 30, 45]);
    expect([...parseCron('0 8-18/5 * * ? *').hours]).toEqual([8, 13, 18]);
  });

  it('parses an explicit year list', () => {
    expect(parseCron('0 0 1 1 ? 2026,2028').years).toEqual(new Set([2026, 2028]));
  });

  it.each([
    ['0 8 * * *', /must have 6 fields .* got 5/],
    ['0 8 * * ? * *', /must have 6 fields .* got 7/],
    ['0 8 ? * ? *', /exactly one of day-of-month and day-of-week must be '\?'/],
    ['0 8 1 * MON *', /exactly one of day-of-month and day-of-week must be '\?'/],
    ['0 8 L * ? *', /day-of-month: 'L' uses L, W or #/],
    ['0 8 15W * ? *', /day-of-month: '15W' uses L, W or #/],
    ['0 8 ? * 6L *', /day-of-week: '6L' uses L, W or #/],
    ['0 8 ? * 2#1 *', /day-of-week: '2#1' uses L, W or #/],
    ['0 8 ? * MON#2 *', /day-of-week: 'MON#2' uses L, W or #/],
    ['60 8 * * ? *', /minutes: '60' is not in 0-59/],
    ['0 24 * * ? *', /hours: '24' is not in 0-23/],
    ['0 8 0 * ? *', /day-of-month: '0' is not in 1-31/],
    ['0 8 32 * ? *', /day-of-month: '32' is not in 1-31/],
    ['0 8 1 13 ? *', /month: '13' is not in 1-12/],
    ['0 8 ? * 8 *', /day-of-week: '8' is not in 1-7/],
    ['0 8 ? * FUN *', /day-of-week: 'FUN' is not in 1-7/],
    ['0 8 1 * ? 1969', /year: '1969' is not in 1970-2199/],
    ['0 17-9 * * ? *', /hours: range '17-9' runs backwards/],
    ['0 8 ? * FRI-MON *', /day-of-week: range 'FRI-MON' runs backwards/],
    ['*/0 8 * * ? *', /minutes: step '0' must be a positive integer/],
    ['x 8 * * ? *', /minutes: 'x' is not in 0-59/],
  ])('rejects %s with a one-line message', (expression, message) => {
    let error: unknown;
    try {
      parseCron(expression);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('accepts names that contain the letters L and W', () => {
    expect([...parseCron('0 0 1 JUL ? *').months]).toEqual([7]);
    expect([...parseCron('0 0 ? APR-JUL WED *').daysOfWeek!]).toEqual([4]);
  });
});

describe('Function: cronFirings', () => {
  it('fires on weekdays only for MON-FRI in UTC', () => {
    // 2026-06-01 is a Monday.
    expect(firings('0 9 ? * MON-FRI *', '2026-06-01T00:00:00Z', '2026-06-08T00:00:00Z')).toEqual([
      '2026-06-01T09:00:00.000Z',
      '2026-06-02T09:00:00.000Z',
      '2026-06-03T09:00:00.000Z',
      '2026-06-04T09:00:00.000Z',
      '2026-06-05T09:00:00.000Z',
    ]);
  });

  it('treats day-of-week 1 as Sunday, as AWS does', () => {
    expect(firings('0 0 ? * 1 *', '2026-06-01T00:00:00Z', '2026-06-15T00:00:00Z')).toEqual(['2026-06-07T00:00:00.000Z', '2026-06-14T00:00:00.000Z']);
  });

  it('includes from and excludes to', () => {
    expect(firings('*/15 * * * ? *', '2026-06-01T10:00:00Z', '2026-06-01T11:00:00Z')).toEqual([
      '2026-06-01T10:00:00.000Z',
      '2026-06-01T10:15:00.000Z',
      '2026-06-01T10:30:00.000Z',
      '2026-06-01T10:45:00.000Z',
    ]);
  });

  it('handles a from that is not on the hour', () => {
    expect(firings('*/20 * * * ? *', '2026-06-01T10:21:00Z', '2026-06-01T11:01:00Z')).toEqual(['2026-06-01T10:40:00.000Z', '2026-06-01T11:00:00.000Z']);
  });

  it('fires on the first of the named months only, in the given year', () => {
    expect(firings('0 0 1 JAN-MAR ? 2027', '2026-12-01T00:00:00Z', '2027-06-01T00:00:00Z')).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2027-02-01T00:00:00.000Z',
      '2027-03-01T00:00:00.000Z',
    ]);
  });

  it('keeps 08:00 local in Europe/Berlin across the change to summer time (2026-03-29)', () => {
    expect(firings('0 8 * * ? *', '2026-03-27T00:00:00Z', '2026-03-31T00:00:00Z', 'Europe/Berlin')).toEqual([
      '2026-03-27T07:00:00.000Z',
      '2026-03-28T07:00:00.000Z',
      '2026-03-29T06:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
    ]);
  });

  it('keeps 08:00 local in Europe/Berlin across the change back to winter time (2026-10-25)', () => {
    expect(firings('0 8 * * ? *', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z', 'Europe/Berlin')).toEqual([
      '2026-10-24T06:00:00.000Z',
      '2026-10-25T07:00:00.000Z',
      '2026-10-26T07:00:00.000Z',
    ]);
  });

  it('skips a local time that does not exist on the day the clocks go forward in Europe/Berlin', () => {
    expect(firings('30 2 * * ? *', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z', 'Europe/Berlin')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('applies the half-hour offset of Asia/Kolkata', () => {
    expect(firings('0 9 ? * MON-FRI *', '2026-06-05T00:00:00Z', '2026-06-09T00:00:00Z', 'Asia/Kolkata')).toEqual([
      '2026-06-05T03:30:00.000Z',
      '2026-06-08T03:30:00.000Z',
    ]);
    expect(firings('30 9 * * ? *', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z', 'Asia/Kolkata')).toEqual(['2026-06-01T04:00:00.000Z']);
  });

  it('applies the quarter-hour offset of Asia/Kathmandu', () => {
    expect(firings('0 6 * * ? *', '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z', 'Asia/Kathmandu')).toEqual(['2026-06-01T00:15:00.000Z']);
  });

  it('uses the local day of week, not the UTC one', () => {
    // Monday 01:00 in Kolkata is Sunday 19:30 UTC.
    expect(firings('0 1 ? * MON *', '2026-05-31T00:00:00Z', '2026-06-02T00:00:00Z', 'Asia/Kolkata')).toEqual(['2026-05-31T19:30:00.000Z']);
  });

  it('returns nothing for an empty range', () => {
    expect(firings('* * * * ? *', '2026-06-01T10:00:00Z', '2026-06-01T10:00:00Z')).toEqual([]);
  });
});

describe('Function: cronMatches', () => {
  it('matches a minute by its wall clock in the zone', () => {
    const cron = parseCron('0 8 ? * MON-FRI *');
    expect(cronMatches(cron, utc('2026-06-01T06:00:00Z'), 'Europe/Berlin')).toBe(true);
    expect(cronMatches(cron, utc('2026-06-01T06:00:00Z'), 'UTC')).toBe(false);
    expect(cronMatches(cron, utc('2026-06-06T06:00:00Z'), 'Europe/Berlin')).toBe(false);
  });
});

describe('Function: wallClock', () => {
  it('gives the local date, time and AWS weekday (1 = Sunday) of an instant', () => {
    expect(wallClock(utc('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 3, day: 29, hour: 3, minute: 30, weekday: 1 });
    expect(wallClock(utc('2026-12-31T20:00:00Z'), 'Asia/Kolkata')).toEqual({ year: 2027, month: 1, day: 1, hour: 1, minute: 30, weekday: 6 });
    expect(wallClock(utc('2026-06-01T00:00:00Z'), 'UTC').hour).toBe(0);
  });
});

describe('Function: isTimeZone', () => {
  it('knows IANA zones and rejects unknown ones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Asia/Kolkata')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});

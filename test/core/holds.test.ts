import { describe, expect, it } from 'vitest';
import { formatDuration, holderKind, holdProblem, isActive, parseDuration, type Hold } from '../../lambdas/core/holds';

const S = 1_764_670_000;
const hold = (h: Partial<Hold> = {}): Hold => ({ target: 'engine', holder: 'manual', floor: 3, reason: 'test', createdAt: S, expiresAt: S + 600, ...h });

describe('Function: isActive', () => {
  it('is active from startsAt (or createdAt) until just before expiresAt', () => {
    expect(isActive(hold(), S * 1000)).toBe(true);
    expect(isActive(hold(), (S + 599) * 1000)).toBe(true);
    expect(isActive(hold(), (S + 600) * 1000)).toBe(false);
    expect(isActive(hold({ startsAt: S + 60 }), (S + 30) * 1000)).toBe(false);
    expect(isActive(hold({ startsAt: S + 60 }), (S + 60) * 1000)).toBe(true);
  });
});

describe('Function: holderKind', () => {
  it('reads the kind before the colon and rejects unknown ones', () => {
    expect(holderKind('emergency:engine-1')).toBe('emergency');
    expect(holderKind('predictive:2026-12-02T11')).toBe('predictive');
    expect(holderKind('wake')).toBe('wake');
    expect(holderKind('operator')).toBeUndefined();
  });
});

describe('Function: holdProblem', () => {
  it('accepts a well-formed hold', () => {
    expect(holdProblem(hold())).toBeUndefined();
  });

  it.each([
    [{ holder: 'nobody' }, /start with one of emergency/],
    [{ holder: 'emergency:' }, /needs a name after ':'/],
    [{ holder: 'manual with space' }, /letters, digits/],
    [{ floor: -1 }, /floor must be a whole number >= 0/],
    [{ floor: 1.5 }, /floor must be a whole number/],
    [{ floor: 5, ceiling: 4 }, /floor must be <= ceiling, got 5 > 4/],
    [{ expiresAt: S }, /expiresAt must be after createdAt/],
    [{ startsAt: S + 700 }, /expiresAt must be after startsAt/],
    [{ reason: '' }, /reason must say why/],
    [{ target: '' }, /target must be a non-empty string/],
  ] as const)('names what is wrong: %o', (change, message) => {
    expect(holdProblem(hold(change as Partial<Hold>))).toMatch(message);
  });
});

describe('Function: parseDuration / formatDuration', () => {
  it('reads 30s, 90m, 2h and 1d, and nothing else', () => {
    expect([parseDuration('30s'), parseDuration('90m'), parseDuration('2h'), parseDuration('1d')]).toEqual([30, 5_400, 7_200, 86_400]);
    for (const bad of ['', '2', 'h', '1.5h', '-1h', '0h', '2 hours']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('shows what is left in at most two units', () => {
    expect(formatDuration(5_400)).toBe('1h30m');
    expect(formatDuration(90_061)).toBe('1d1h');
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(0)).toBe('0s');
  });
});

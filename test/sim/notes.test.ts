import { describe, expect, it } from 'vitest';
import { compare } from '../../src/sim/compare';
import { intervalAdjective, intervalText, simulationNotes, tuningNotes } from '../../src/sim/notes';
import { ForecastCache } from '../../src/sim/simulate';
import { parseTrace, rescaleToPeak } from '../../src/sim/trace';
import { tune } from '../../src/sim/tune';
import { bundledTrace, DAY, MINUTE_MS, minuteTrace, simPool } from './helpers';

const csv = (...lines: string[]) => `${lines.join('\n')}\n`;
const at = (m: number) => new Date(DAY + m * MINUTE_MS).toISOString();

describe('simulation notes', () => {
  const engine = simPool('engine');

  it('none for a plain per-minute trace within max capacity, shown without mlscale', () => {
    const c = compare(minuteTrace(Array(120).fill(100)), engine, ['target-tracking', 'oracle']);
    expect(simulationNotes(c, engine, ['target-tracking', 'oracle'])).toEqual([]);
  });

  it('mlscale\'s step scale-in, when the pool has it; none at scaleInMinutes 15', () => {
    const c = compare(minuteTrace(Array(120).fill(100)), engine, ['target-tracking', 'mlscale', 'oracle']);
    expect(simulationNotes(c, engine, ['mlscale', 'oracle'])).toContain(
      "mlscale scales in with its step policy after 12 minutes below 90 % of the CPU target (scaleInMinutes; target tracking only scales out); the baselines keep target tracking's own scale-in (15 of 15 datapoints).",
    );
    const at15 = { ...engine, tunables: { ...engine.tunables, scaleInMinutes: 15 } };
    expect(simulationNotes(c, at15, ['mlscale', 'oracle']).some((n) => n.includes('step policy'))).toBe(false);
  });

  it('the baselines carry a planned event within the trace as scheduled actions; one outside it is not mentioned', () => {
    const event = { name: 'launch', pool: 'engine', start: new Date(DAY + 60 * 60_000).toISOString(), end: new Date(DAY + 90 * 60_000).toISOString(), replicas: 6, leadMinutes: 10, cooldownMinutes: 5 };
    const withEvent = { ...engine, plannedEvents: [event] };
    const c = compare(minuteTrace(Array(120).fill(100)), withEvent, ['target-tracking', 'oracle']);
    expect(simulationNotes(c, withEvent, ['target-tracking', 'oracle'])).toEqual([
      "The baselines carry the config's 1 planned event as a native build would: scheduled actions that raise MinCapacity for the same windows (mlscale holds them as schedule holds).",
    ]);
    // ... and it does raise target tracking to the event's replicas inside the window only.
    expect(c.timelines['target-tracking'].tasks[55]).toBeGreaterThanOrEqual(6);
    expect(c.timelines['target-tracking'].tasks[40]).toBeLessThan(6);
    const later = { ...withEvent, plannedEvents: [{ ...event, start: new Date(DAY + 600 * 60_000).toISOString(), end: new Date(DAY + 660 * 60_000).toISOString() }] };
    expect(simulationNotes(compare(minuteTrace(Array(120).fill(100)), later, ['target-tracking', 'oracle']), later, ['target-tracking', 'oracle'])).toEqual([]);
  });

  it('the rescale: by what factor, to which peak', () => {
    const trace = rescaleToPeak(minuteTrace([10, 40, 20, ...Array(60).fill(5)]), 0.8, 500);
    const notes = simulationNotes(compare(trace, engine, ['oracle']), engine, ['oracle']);
    expect(notes).toEqual([
      "Trace rescaled ×10.00: its busiest minute (40 in the file's units) becomes 400 req/s, 0.8 × the pool's full capacity (10 tasks × 50 req/s = 500 req/s).",
    ]);
  });

  it('coarse rows interpolated, and gaps filled: how many, how long', () => {
    const rows = ['timestamp,value', ...[0, 30, 60, 150, 180].map((m) => `${at(m)},100`)];
    const trace = parseTrace(csv(...rows), 'coarse.csv');
    const notes = simulationNotes(compare(trace, engine, ['oracle']), engine, ['oracle']);
    expect(notes[0]).toMatch(/^The trace's rows are 30 minutes apart: each minute is interpolated linearly between them/);
    expect(notes[1]).toBe('2 missing rows of the 30-minute series (60 minutes without data; the longest gap 60 minutes) interpolated across.');
    const held = parseTrace(csv('timestamp,rps', ...[0, 1, 2, 5, 6].map((m) => `${at(m)},100`)), 'fine.csv');
    expect(simulationNotes(compare(held, engine, ['oracle']), engine, ['oracle'])).toEqual([
      '2 missing rows of the 1-minute series (2 minutes without data; the longest gap 2 minutes) filled by holding the previous value.',
    ]);
  });

  it('a peak above the emergency ceiling: the oracle is no bound there', () => {
    const trace = minuteTrace([...Array(30).fill(100), ...Array(5).fill(1_200), ...Array(30).fill(100)]);
    const c = compare(trace, engine, ['oracle']);
    expect(c.policies.oracle.violationMinutes).toBeGreaterThan(0);
    expect(simulationNotes(c, engine, ['oracle'])).toEqual([
      `The peak load, 1,200 req/s, is above what the pool can ever serve: the emergency ceiling 20 tasks × 50 req/s = 1,000 req/s. Every policy misses the SLO there, the oracle too (${c.policies.oracle.violationMinutes} violation minutes): the oracle is no lower bound for those minutes.`,
    ]);
    // Without an emergency the ceiling is max capacity.
    const noEmergency = { ...engine, emergency: { ...engine.emergency, enabled: false } };
    const d = compare(minuteTrace([...Array(30).fill(100), ...Array(5).fill(600)]), noEmergency, ['oracle']);
    expect(simulationNotes(d, noEmergency, ['oracle'])[0]).toMatch(/^The peak load, 600 req\/s, is above what the pool can ever serve: max capacity 10 tasks/);
  });

  it('a peak above max capacity but within the emergency ceiling', () => {
    const c = compare(bundledTrace(), engine, ['oracle']);
    expect(simulationNotes(c, engine, ['oracle'])).toEqual([
      'The peak load, 622.14 req/s, is above max capacity (10 tasks × 50 req/s = 500 req/s) but within the emergency ceiling (20 tasks): only an emergency raise (mlscale) or the oracle serves it without a backlog.',
    ]);
  });

  it('the forecast not trusted, and why, when mlscale is shown', () => {
    const trace = minuteTrace(Array.from({ length: 3 * 1440 }, (_, m) => 200 + 100 * Math.sin((2 * Math.PI * m) / 1440)));
    const c = compare(trace, engine, ['mlscale'], new ForecastCache(), { timeline: 'none' });
    const note = simulationNotes(c, engine, ['mlscale']).find((n) => n.startsWith('Forecast'))!;
    expect(note).toBe(
      'Forecast missing or not trusted in 72 of 72 predictive runs: 23 had no forecast (under 24 hours of history), 49 had a forecast not yet backtested (under five days of history); ' +
        'in those hours mlscale scaled reactively only (the predictive Lambda acts on a forecast only when its backtest error over the last three days is at most 25.0 %).',
    );
    expect(simulationNotes(c, engine, ['oracle']).some((n) => n.startsWith('Forecast'))).toBe(false);
  });

  it('CPU target tracking on a pool with min 0', () => {
    const gpu = simPool('gpu-modules');
    const c = compare(minuteTrace(Array(60).fill(10)), gpu, ['target-tracking-cpu']);
    expect(simulationNotes(c, gpu, ['target-tracking-cpu'])).toEqual([expect.stringMatching(/^target-tracking-cpu keeps the pool's min capacity 0: at zero tasks there is no CPU datapoint/)]);
  });

  it('the tuning verdict, and a grid searched beyond its edge', () => {
    const wave = minuteTrace(Array.from({ length: 360 }, (_, m) => 50 + Math.min(1, m / 60) * (150 + 60 * Math.sin((2 * Math.PI * m) / 120))), DAY + 6 * 3_600_000);
    const r = tune(wave, engine, 0, { grid: { cpuPercent: [60, 65, 70] } });
    const notes = tuningNotes(r);
    expect(notes[0]).toMatch(/^Tuning: Recommended: on the held-out half/);
    expect(notes[1]).toMatch(/^Tuning: the best thresholds\.cpuPercent sat on the upper edge of its grid \(70\); searched beyond it in steps of 5: 75, 80, 85, 90, 95 \(stopped at the first value that did no better\); chosen 90\.$/);
  });

  it('intervals in words', () => {
    expect([intervalText(1800), intervalText(60), intervalText(3600), intervalText(7200), intervalText(30)]).toEqual(['30 minutes', '1 minute', '1 hour', '2 hours', '30 seconds']);
    expect([intervalAdjective(1800), intervalAdjective(300), intervalAdjective(3600), intervalAdjective(30)]).toEqual(['30-minute', '5-minute', '1-hour', '30-second']);
  });
});

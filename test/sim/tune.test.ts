import { describe, expect, it } from 'vitest';
import type { SimPool, Tunables } from '../../src/sim/sim-config';
import { simulate, type PolicyResult } from '../../src/sim/simulate';
import { sliceTrace } from '../../src/sim/trace';
import { alarmMoves, configFragment, configPath, relevantTunables, tune, TUNING_BOUNDS, TUNING_GRID, tuningVerdict, type TuneResult } from '../../src/sim/tune';
import { DAY, minuteTrace, poolIndex, simPool, sum } from './helpers';

const KEYS: (keyof Tunables)[] = ['cpuPercent', 'scaleOutCooldownSeconds', 'scaleInCooldownSeconds', 'leadMinutes', 'headroom', 'idleMinutes', 'drainSeconds', 'scaleInMinutes'];

/** Six hours of engine load: an hour's ramp from 50 req/s to a two-hour wave around 200 req/s. */
const WAVE = minuteTrace(
  Array.from({ length: 360 }, (_, m) => 50 + Math.min(1, m / 60) * (150 + 60 * Math.sin((2 * Math.PI * m) / 120))),
  DAY + 6 * 3_600_000,
);

let waveResult: TuneResult | undefined;
const tunedWave = () => (waveResult ??= tune(WAVE, simPool('engine'), poolIndex('engine')));

describe('tune: the recommended changes', () => {
  it('lists exactly the tunables that differ from the defaults, as config paths', () => {
    const sim = simPool('engine');
    const r = tunedWave();
    expect(r.changes.length).toBeGreaterThan(0);
    const differing = KEYS.filter((k) => r.tunables[k] !== sim.tunables[k]);
    expect(r.changes.map((c) => c.path)).toEqual(differing.map((k) => configPath(k, poolIndex('engine'))));
    for (const k of differing) {
      const change = r.changes.find((c) => c.path === configPath(k, 0))!;
      expect(change.from, k).toBe(sim.tunables[k]);
      expect(change.to, k).toBe(r.tunables[k]);
    }
  });

  it('changes only the tunables relevant to the pool, to values on the grid or searched beyond its edge', () => {
    const sim = simPool('engine');
    const r = tunedWave();
    for (const k of KEYS) {
      if (r.tunables[k] === sim.tunables[k]) continue;
      expect(relevantTunables(sim), k).toContain(k);
      const beyond = r.extended?.find((e) => e.key === k)?.tried ?? [];
      expect([...TUNING_GRID[k], ...beyond], k).toContain(r.tunables[k]);
    }
  });

  it('names the pool by its index in the config', () => {
    const gpuBursts = minuteTrace(Array.from({ length: 360 }, (_, m) => (m % 40 < 10 ? 12 : 0)));
    const r = tune(gpuBursts, simPool('gpu-modules'), poolIndex('gpu-modules'), { maxViolationPercent: 100 });
    expect(poolIndex('gpu-modules')).toBe(2);
    expect(r.changes.length).toBeGreaterThan(0);
    for (const c of r.changes) expect(c.path).toMatch(/^pools\[2\]\.(scaleOutCooldownSeconds|scaleInCooldownSeconds|idleMinutes)$/);
  });

  it('recommends nothing when no value does better than the defaults', () => {
    const r = tune(minuteTrace(Array(240).fill(0)), simPool('gpu-modules'), 2);
    expect(r.changes).toEqual([]);
    expect(r.tunables).toEqual(simPool('gpu-modules').tunables);
    expect(r.feasible).toBe(true);
  });

  it('maps every tunable to where it lives in the config file', () => {
    expect(KEYS.map((k) => configPath(k, 1))).toEqual([
      'thresholds.cpuPercent',
      'pools[1].scaleOutCooldownSeconds',
      'pools[1].scaleInCooldownSeconds',
      'pools[1].predictive.leadMinutes',
      'pools[1].predictive.headroom',
      'pools[1].idleMinutes',
      'pools[1].drainSeconds',
      'pools[1].scaleInMinutes',
    ]);
  });
});

describe('tune: fitting on the first half', () => {
  const half = WAVE.rps.length / 2;
  const fitRun = (sim: SimPool, tunables: Tunables) => simulate(sliceTrace(WAVE, 0, half), { ...sim, tunables }, 'mlscale', { timeline: false }).result;

  it('the fit is the tuned mlscale on the first half, within the violation budget when feasible', () => {
    const sim = simPool('engine');
    const r = tunedWave();
    expect(r.feasible).toBe(true);
    expect(r.fit.violationPercent).toBeLessThanOrEqual(1);
    expect(r.fit).toEqual(fitRun(sim, r.tunables));
  });

  it('never does worse than the defaults when the defaults meet the budget', () => {
    const sim = simPool('engine');
    const defaults = fitRun(sim, sim.tunables);
    expect(defaults.violationPercent).toBeLessThanOrEqual(1);
    const r = tunedWave();
    expect(r.fit.taskMinutes).toBeLessThan(defaults.taskMinutes);
  });

  it('holds to a stricter budget', () => {
    // 1 % of 180 minutes lets the default budget spend a violation minute; 0 % does not, and costs more.
    expect(tunedWave().fit.violationMinutes).toBeGreaterThan(0);
    const r = tune(WAVE, simPool('engine'), 0, { maxViolationPercent: 0 });
    expect(r.feasible).toBe(true);
    expect(r.fit.violationMinutes).toBe(0);
    expect(r.fit.taskMinutes).toBeGreaterThan(tunedWave().fit.taskMinutes);
  });

  it('reports an unmet budget and picks the fewest violations', () => {
    // Above the emergency ceiling (20 tasks x 50 req/s) for a stretch: no setting avoids every violation.
    const busy = minuteTrace([...Array(60).fill(100), ...Array(30).fill(1_500), ...Array(150).fill(100)]);
    const sim = simPool('engine');
    const r = tune(busy, sim, 0, { maxViolationPercent: 0 });
    expect(r.feasible).toBe(false);
    expect(r.fit.violationMinutes).toBeGreaterThan(0);
    const defaults = simulate(sliceTrace(busy, 0, 120), sim, 'mlscale', { timeline: false }).result;
    expect(r.fit.violationMinutes).toBeLessThanOrEqual(defaults.violationMinutes);
  });

  it('never picks a cheaper setting that makes desired capacity flap in more hours than the defaults', () => {
    // Five minutes at 300 req/s, five at 60: a one-minute scale-in follows every trough and the next crest undoes it.
    const sawtooth = minuteTrace(Array.from({ length: 360 }, (_, m) => (m % 10 < 5 ? 300 : 60)), DAY + 6 * 3_600_000);
    const sim = simPool('engine');
    const fitHalf = sliceTrace(sawtooth, 0, 180);
    const [defaults, fast] = [sim, simPool('engine', { scaleInMinutes: 1 })].map((s) => simulate(fitHalf, s, 'mlscale', { timeline: false }).result);
    // The flapping setting is cheaper at no more violations: only the flapping rule keeps it out.
    expect(fast!.taskMinutes).toBeLessThan(defaults!.taskMinutes);
    expect(fast!.violationMinutes).toBeLessThanOrEqual(defaults!.violationMinutes);
    expect(fast!.flappingHours).toBeGreaterThan(defaults!.flappingHours);
    const only = Object.fromEntries(KEYS.map((k) => [k, k === 'scaleInMinutes' ? [1] : []]));
    const r = tune(sawtooth, sim, 0, { grid: only });
    expect(r.tunables.scaleInMinutes).not.toBe(1);
    expect(r.fit.flappingHours).toBeLessThanOrEqual(defaults!.flappingHours);
  });

  it('needs at least two hours of trace', () => {
    expect(() => tune(minuteTrace(Array(119).fill(10)), simPool('engine'), 0)).toThrow(/tuning needs at least two hours/);
  });
});

describe('tune: judging on the held-out second half', () => {
  it('counts only the second half of a run over the whole trace', () => {
    const sim = simPool('engine');
    const r = tunedWave();
    const half = WAVE.rps.length / 2;
    expect(r.heldOut.minutes).toBe(WAVE.rps.length - half);
    const judge = (tunables: Tunables, p: 'mlscale' | 'oracle' | 'target-tracking' | 'target-tracking-cpu') =>
      simulate(WAVE, { ...sim, tunables }, p, { measureFrom: half, timeline: false }).result;
    expect(r.heldOut.mlscale).toEqual(judge(r.tunables, 'mlscale'));
    expect(r.heldOut.oracle).toEqual(judge(r.tunables, 'oracle'));
    expect(r.heldOut.defaults).toEqual(judge(sim.tunables, 'mlscale'));
    expect(r.heldOut.targetTracking).toEqual(judge(sim.tunables, 'target-tracking'));
    expect(r.heldOut.targetTrackingCpu).toEqual(judge(sim.tunables, 'target-tracking-cpu'));

    const whole = simulate(WAVE, { ...sim, tunables: r.tunables }, 'mlscale');
    expect(r.heldOut.mlscale.taskMinutes).toBe(sum(whole.timeline.tasks.slice(half)));
    expect(r.heldOut.mlscale.taskMinutes).toBeLessThan(whole.result.taskMinutes);
    expect(r.heldOut.mlscale.violationPercent).toBeCloseTo((100 * r.heldOut.mlscale.violationMinutes) / half, 9);
  });

  it('rounds an odd trace: the first half is the shorter', () => {
    const odd = sliceTrace(WAVE, 0, 241);
    const r = tune(odd, simPool('engine'), 0);
    expect(r.heldOut.minutes).toBe(121);
  });
});

describe('relevantTunables', () => {
  // The scale-out cooldown only paces a demand pool's step policy, and the CPU target is only the
  // always-on pool's tracking target: elsewhere searching them would change nothing.
  it('always-on pool with forecast-and-scale, draining its lag: CPU target, scale-in cooldown and minutes, drain time, lead time and headroom', () => {
    expect(relevantTunables(simPool('engine'))).toEqual(['cpuPercent', 'scaleInCooldownSeconds', 'scaleInMinutes', 'drainSeconds', 'leadMinutes', 'headroom']);
  });

  it('scale-to-zero pool without predictive: scale-in cooldown and idle minutes', () => {
    expect(relevantTunables(simPool('gpu-modules'))).toEqual(['scaleInCooldownSeconds', 'idleMinutes']);
  });

  it('demand pool with predictive: cooldowns, lead time and headroom, no idle minutes', () => {
    const keys = relevantTunables(simPool('cpu-modules'));
    expect(keys).toEqual(expect.arrayContaining(['scaleOutCooldownSeconds', 'scaleInCooldownSeconds', 'leadMinutes', 'headroom']));
    expect(keys).not.toContain('idleMinutes');
  });

  it('no lead time or headroom without forecast-and-scale', () => {
    const engine = simPool('engine');
    const off = { ...engine, predictive: { ...engine.predictive, enabled: false } };
    expect(relevantTunables(off)).toEqual(['cpuPercent', 'scaleInCooldownSeconds', 'scaleInMinutes', 'drainSeconds']);
    const forecastOnly = { ...engine, predictive: { ...engine.predictive, mode: 'forecast-only' } };
    expect(relevantTunables(forecastOnly)).not.toContain('leadMinutes');
    expect(relevantTunables(forecastOnly)).not.toContain('headroom');
  });
});

describe('tune: the verdict, judged on the held-out half', () => {
  it('recommends what beats the defaults there, as a config fragment keyed by pool name, and says the cpu alarm moves too', () => {
    const r = tunedWave();
    const v = tuningVerdict(r);
    expect(r.heldOut.mlscale.taskMinutes).toBeLessThan(r.heldOut.defaults.taskMinutes);
    expect(r.heldOut.mlscale.violationMinutes).toBeLessThanOrEqual(r.heldOut.defaults.violationMinutes);
    expect(v.recommend).toBe(true);
    expect(v.reason).toMatch(/^Recommended: on the held-out half the tuned values used [\d,]+ task-minutes .* fewer task-minutes with violation minutes no worse\.$/);
    // The wave's troughs are short: the faster step scale-in is worth it there too.
    expect(r.changes.map((c) => c.path)).toEqual(['thresholds.cpuPercent', 'pools[0].scaleInMinutes']);
    expect(v.fragment).toEqual({ pools: { engine: { scaleInMinutes: r.tunables.scaleInMinutes } }, thresholds: { cpuPercent: r.tunables.cpuPercent } });
    expect(r.alarmMoves).toEqual([{ path: 'thresholds.cpuPercent', alarm: 'cpu', from: 70, to: r.tunables.cpuPercent }]);
    expect(v.apply).toContain('thresholds are global');
    expect(v.apply).toContain(`thresholds.cpuPercent also moves the cpu alarm from 70 to ${r.tunables.cpuPercent} %`);
  });

  it('keeps the defaults when the first half\'s best does worse on the second half, with the numbers', () => {
    // A calm first half rewards a high CPU target; the second half's bursts punish it.
    const shift = minuteTrace(
      Array.from({ length: 480 }, (_, m) => (m < 240 ? 200 + 20 * Math.sin(m / 20) : m % 30 < 6 ? 420 : 150)),
      DAY + 6 * 3_600_000,
    );
    const r = tune(shift, simPool('engine'), 0);
    expect(r.changes.length).toBeGreaterThan(0);
    expect(r.fit.taskMinutes).toBeLessThan(simulate(sliceTrace(shift, 0, 240), simPool('engine'), 'mlscale', { timeline: false }).result.taskMinutes);
    const h = r.heldOut;
    expect(h.mlscale.taskMinutes).toBeGreaterThan(h.defaults.taskMinutes);
    expect(h.mlscale.violationMinutes).toBeGreaterThanOrEqual(h.defaults.violationMinutes);
    const v = tuningVerdict(r);
    expect(v.recommend).toBe(false);
    expect(v.fragment).toBeUndefined();
    expect(v.reason).toContain(`used ${h.mlscale.taskMinutes.toLocaleString('en-US')} task-minutes`);
    expect(v.reason).toContain(`against ${h.defaults.taskMinutes.toLocaleString('en-US')} and`);
    expect(v.reason).toMatch(/^Keep the defaults: .*: no saving and no fewer violation minutes\.$/);
  });

  it('recommends fewer violation minutes at no more task-minutes, and refuses fewer task-minutes bought with violations', () => {
    const base = tunedWave();
    const withHeldOut = (mlscale: Partial<PolicyResult>, defaults: Partial<PolicyResult>): TuneResult => ({
      ...base,
      heldOut: { ...base.heldOut, mlscale: { ...base.heldOut.mlscale, ...mlscale }, defaults: { ...base.heldOut.defaults, ...mlscale, ...defaults } },
    });
    const fewerViolations = tuningVerdict(withHeldOut({ taskMinutes: 1000, violationMinutes: 2 }, { violationMinutes: 5 }));
    expect(fewerViolations.recommend).toBe(true);
    expect(fewerViolations.reason).toMatch(/fewer violation minutes \(2 against 5\) at no more task-minutes/);
    const boughtWithViolations = tuningVerdict(withHeldOut({ taskMinutes: 900, violationMinutes: 6, violationPercent: 1.5 }, { taskMinutes: 1000, violationMinutes: 5, violationPercent: 1.2 }));
    expect(boughtWithViolations.recommend).toBe(false);
    expect(boughtWithViolations.reason).toMatch(/fewer task-minutes, but it raised violation minutes from 5 \(1\.20 %\) to 6 \(1\.50 %\)/);
    const moreTasksFewerViolations = tuningVerdict(withHeldOut({ taskMinutes: 1100, violationMinutes: 1 }, { taskMinutes: 1000, violationMinutes: 5 }));
    expect(moreTasksFewerViolations.recommend).toBe(false);
    expect(moreTasksFewerViolations.reason).toMatch(/fewer violation minutes, but more task-minutes/);
  });

  it('within the violation budget, recommends a saving of 2 % or more even at a violation minute more; a smaller one it refuses', () => {
    const base = tunedWave();
    const withHeldOut = (mlscale: Partial<PolicyResult>, defaults: Partial<PolicyResult>): TuneResult => ({
      ...base,
      heldOut: { ...base.heldOut, mlscale: { ...base.heldOut.mlscale, ...mlscale }, defaults: { ...base.heldOut.defaults, ...defaults } },
    });
    const saving = tuningVerdict(withHeldOut({ taskMinutes: 800, violationMinutes: 1, violationPercent: 0.01 }, { taskMinutes: 1000, violationMinutes: 0, violationPercent: 0 }));
    expect(saving.recommend).toBe(true);
    expect(saving.reason).toMatch(/20\.0 % fewer task-minutes, with violation minutes within the 1 % budget \(1 against 0\)/);
    // Exactly 2 % is enough.
    const twoPercent = tuningVerdict(withHeldOut({ taskMinutes: 980, violationMinutes: 4, violationPercent: 0.04 }, { taskMinutes: 1000, violationMinutes: 3, violationPercent: 0.03 }));
    expect(twoPercent.recommend).toBe(true);
    expect(twoPercent.reason).toMatch(/2\.0 % fewer task-minutes, with violation minutes within the 1 % budget \(4 against 3\)/);
    const small = tuningVerdict(withHeldOut({ taskMinutes: 990, violationMinutes: 4, violationPercent: 0.04 }, { taskMinutes: 1000, violationMinutes: 3, violationPercent: 0.03 }));
    expect(small.recommend).toBe(false);
    expect(small.reason).toMatch(/raised violation minutes from 3 \(0\.03 %\) to 4 \(0\.04 %\), for a saving \(1\.0 %\) under 2 %/);
    // A stricter budget the tuned values miss: refused.
    const strict = tuningVerdict({ ...withHeldOut({ taskMinutes: 800, violationMinutes: 1, violationPercent: 0.01 }, { taskMinutes: 1000, violationMinutes: 0, violationPercent: 0 }), maxViolationPercent: 0 });
    expect(strict.recommend).toBe(false);
    expect(strict.reason).toMatch(/above the 0 % budget/);
  });

  it('refuses a saving that makes desired capacity flap in more hours than the defaults, and says so', () => {
    const base = tunedWave();
    const r: TuneResult = {
      ...base,
      heldOut: { ...base.heldOut, mlscale: { ...base.heldOut.mlscale, taskMinutes: 700, violationMinutes: 0, flappingHours: 3 }, defaults: { ...base.heldOut.defaults, taskMinutes: 1000, violationMinutes: 0, flappingHours: 1 } },
    };
    const v = tuningVerdict(r);
    expect(v.recommend).toBe(false);
    expect(v.reason).toMatch(/but desired capacity flapped in 3 hours against 1 with the defaults \(the flapping alarm would page\)\.$/);
  });

  it('recommends meeting a budget the defaults miss, at more task-minutes, and says what it costs', () => {
    const base = tunedWave();
    const r: TuneResult = {
      ...base,
      heldOut: { ...base.heldOut, mlscale: { ...base.heldOut.mlscale, taskMinutes: 1300, violationMinutes: 5, violationPercent: 0.6 }, defaults: { ...base.heldOut.defaults, taskMinutes: 1000, violationMinutes: 10, violationPercent: 1.2 } },
    };
    const v = tuningVerdict(r);
    expect(v.recommend).toBe(true);
    expect(v.reason).toMatch(/within the 1 % violation budget, which the defaults miss \(0\.60 % against 1\.20 %\), at 300 more task-minutes\.$/);
  });

  it('a fragment nests predictive values under the pool and keeps thresholds apart', () => {
    expect(
      configFragment('engine', [
        { key: 'scaleInCooldownSeconds', path: 'pools[0].scaleInCooldownSeconds', from: 300, to: 120 },
        { key: 'leadMinutes', path: 'pools[0].predictive.leadMinutes', from: 10, to: 5 },
        { key: 'headroom', path: 'pools[0].predictive.headroom', from: 0.1, to: 0.2 },
        { key: 'cpuPercent', path: 'thresholds.cpuPercent', from: 70, to: 65 },
      ]),
    ).toEqual({ pools: { engine: { scaleInCooldownSeconds: 120, predictive: { leadMinutes: 5, headroom: 0.2 } } }, thresholds: { cpuPercent: 65 } });
    expect(alarmMoves(simPool('engine'), [{ key: 'scaleInCooldownSeconds', path: 'pools[0].scaleInCooldownSeconds', from: 300, to: 120 }])).toEqual([]);
  });
});

describe('tune: a best value on the edge of its grid is searched beyond it', () => {
  it('goes on outward in the edge\'s step while it keeps improving, and says so', () => {
    const r = tune(WAVE, simPool('engine'), 0, { grid: { cpuPercent: [60, 65, 70] } });
    const e = r.extended!.find((x) => x.key === 'cpuPercent')!;
    expect(e).toMatchObject({ edge: 'upper', from: 70, step: 5 });
    expect(r.tunables.cpuPercent).toBeGreaterThan(70);
    expect(e.tried).toContain(r.tunables.cpuPercent);
    expect(e.tried.every((v) => (v - 70) % 5 === 0 && v <= TUNING_BOUNDS.cpuPercent[1])).toBe(true);
    // The same optimum as the full grid finds (its best, 90, is on the grid).
    expect(r.tunables.cpuPercent).toBe(tunedWave().tunables.cpuPercent);
  });

  it('stops at the sane bound', () => {
    // With no violation budget to keep, the highest CPU target is the cheapest: 95, the bound, with nothing beyond.
    const r = tune(WAVE, simPool('engine'), 0, { grid: { cpuPercent: [85, 90, 95] }, maxViolationPercent: 100 });
    expect(r.tunables.cpuPercent).toBe(TUNING_BOUNDS.cpuPercent[1]);
    expect(r.extended!.find((x) => x.key === 'cpuPercent')).toEqual({ key: 'cpuPercent', edge: 'upper', from: 95, step: 5, tried: [], stopped: 'bound' });
  });

  it('a best value inside the grid is not extended', () => {
    const r = tune(WAVE, simPool('engine'), 0, { grid: { cpuPercent: [85, 90, 95] } });
    expect(r.tunables.cpuPercent).toBe(90);
    expect(r.extended!.find((x) => x.key === 'cpuPercent')).toBeUndefined();
  });
});

/**
 * Decision quality: the three policies, and mlscale after --tune (judged on
 * the held-out half), on the bundled trace and on every trace of a folder.
 * Real traces are rescaled so their peak needs 80 % of the engine pool's max
 * capacity (--peak-utilization 0.8); the bundled trace is replayed as it is.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { selectEnvironment } from '../lambdas/core/config';
import { loadConfigFile } from '../lib/config/load';
import { compare } from '../src/sim/compare';
import { simPoolFrom } from '../src/sim/sim-config';
import { ForecastCache } from '../src/sim/simulate';
import { parseTrace, rescaleToPeak, type MinuteTrace } from '../src/sim/trace';
import { tune } from '../src/sim/tune';

export const PEAK_UTILIZATION = 0.8;

export interface QualityRow {
  readonly trace: string;
  readonly minutes: number;
  readonly scale: string;
  readonly tt: { taskMinutes: number; violationMinutes: number; violationPercent: number };
  readonly mlscale: { taskMinutes: number; violationMinutes: number; violationPercent: number; emergencies: number };
  readonly oracle: { taskMinutes: number };
  readonly tuned: { ratioToOracle: number; violationPercent: number; changes: string; defaultsRatioToOracle: number };
  readonly seconds: number;
}

export function qualityRow(trace: MinuteTrace, scale: string): QualityRow {
  const t0 = performance.now();
  const env = selectEnvironment(loadConfigFile(), 'production');
  const sim = simPoolFrom(env, 'engine');
  const forecasts = new ForecastCache();
  const c = compare(trace, sim, ['target-tracking', 'mlscale', 'oracle'], forecasts);
  const tuned = tune(trace, sim, 0, { forecasts });
  const h = tuned.heldOut;
  const pick = (p: 'target-tracking' | 'mlscale') => c.policies[p];
  return {
    trace: trace.name,
    minutes: trace.rps.length,
    scale,
    tt: pick('target-tracking'),
    mlscale: pick('mlscale'),
    oracle: c.policies.oracle,
    tuned: {
      ratioToOracle: h.mlscale.taskMinutes / Math.max(1, h.oracle.taskMinutes),
      violationPercent: h.mlscale.violationPercent,
      defaultsRatioToOracle: h.defaults.taskMinutes / Math.max(1, h.oracle.taskMinutes),
      changes: tuned.changes.map((ch) => `${ch.path.replace(/^pools\[0\]\./, '')} ${ch.from}→${ch.to}`).join(', ') || 'none',
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

export function qualityRows(bundled: string, folder: string | undefined, traceFiles: string[]): QualityRow[] {
  const env = selectEnvironment(loadConfigFile(), 'production');
  const engine = env.pools.find((p) => p.name === 'engine')!;
  const rows = [qualityRow(parseTrace(readFileSync(bundled, 'utf8'), path.basename(bundled)), 'as is (req/s)')];
  for (const file of traceFiles) {
    const raw = parseTrace(readFileSync(path.join(folder!, file), 'utf8'), file);
    rows.push(qualityRow(rescaleToPeak(raw, PEAK_UTILIZATION, engine.maxCapacity * engine.capacityPerTask), `peak = ${PEAK_UTILIZATION} × max capacity`));
  }
  return rows;
}

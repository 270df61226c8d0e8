/**
 * What the report inlines: uPlot's script and stylesheet (read from the
 * installed package) and the page script client.js. Read once, lazily.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

export interface ReportAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  readonly uplotVersion: string;
  readonly uplotLicense: string;
  readonly clientJs: string;
}

let cached: ReportAssets | undefined;

export function reportAssets(): ReportAssets {
  if (!cached) {
    const pkg = createRequire(__filename).resolve('uplot/package.json');
    const dir = path.dirname(pkg);
    cached = {
      uplotJs: readFileSync(path.join(dir, 'dist', 'uPlot.iife.min.js'), 'utf8'),
      uplotCss: readFileSync(path.join(dir, 'dist', 'uPlot.min.css'), 'utf8'),
      uplotVersion: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version,
      uplotLicense: readFileSync(path.join(dir, 'LICENSE'), 'utf8').trim(),
      clientJs: readFileSync(path.join(__dirname, 'client.js'), 'utf8'),
    };
  }
  return cached;
}

/** A time-axis step: seconds, or calendar months for month/quarter/year steps. */
export interface TimeStep {
  readonly s: number;
  readonly week?: boolean;
  readonly months?: number;
}

/** The pure helpers of client.js, as the page runs them. */
export interface ClientHelpers {
  formatNumber(v: number, decimals?: number): string;
  niceStep(raw: number): number;
  niceTicks(min: number, max: number, maxCount: number, integer?: boolean): number[];
  niceRange(max: number, count?: number): [number, number];
  tickLabels(ticks: readonly number[]): string[];
  timeTicks(minSec: number, maxSec: number, maxCount: number): { step: TimeStep; ticks: number[] };
  timeLabels(ticks: readonly number[], step: TimeStep): string[];
  formatUtc(sec: number): string;
  formatDuration(sec: number): string;
}

/** Evaluate client.js (the very text the page inlines) and return its helpers; `globalThis` stands in for the page's window. */
export function clientHelpers(): ClientHelpers {
  const page: { mlscaleReport?: ClientHelpers } = {};
  new Function('globalThis', reportAssets().clientJs)(page);
  return page.mlscaleReport!;
}

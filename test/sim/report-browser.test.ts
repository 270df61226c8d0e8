/**
 * The --html report in a real browser: Debian's Chromium, headless, through
 * playwright-core (no browser download). Fails, never skips, without Chromium.
 * Leaves a screenshot in .scratch/report-browser.png for a human to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { violationRanges } from '../../src/sim/report/markers';
import type { ReportInput, ReportSeries } from '../../src/sim/report/model';
import { renderReport } from '../../src/sim/report/render';

const ROOT = path.join(__dirname, '..', '..');
const SCREENSHOT = path.join(ROOT, '.scratch', 'report-browser.png');
const CHROMIUM = process.env.MLSCALE_CHROMIUM ?? '/usr/bin/chromium';

// ------------------------------------------------------------ a synthetic input

const START = Date.UTC(2026, 5, 1); // a Monday, 00:00 UTC
const MINUTES = 3 * 1440;
const PER_TASK = 50;
const SPIKE = { from: 1440 + 14 * 60, to: 1440 + 14 * 60 + 30 }; // day 2, 14:00-14:30 UTC
const EVENT = { from: 2 * 1440 + 9 * 60, to: 2 * 1440 + 11 * 60 }; // day 3, 09:00-11:00 UTC
const EMERGENCY = 6 * 60; // day 1, 06:00 UTC: a calm minute, nothing else drawn near the top there
const COLORS = { mlscale: [0x00, 0x72, 0xb2], 'target-tracking': [0xd5, 0x5e, 0x00], oracle: [0x00, 0x9e, 0x73] } as const;

const load = Array.from({ length: MINUTES }, (_, m) => {
  const daily = 200 + 150 * Math.sin(2 * Math.PI * (m / 1440 - 0.25));
  return m >= SPIKE.from && m < SPIKE.to ? 900 : Math.round(daily * 10) / 10;
});

/** A policy that provisions for the load `lag` minutes ago × `headroom`, and the backlog that leaves. */
function policy(name: string, lag: number, headroom: number): ReportSeries & { violation: Uint8Array } {
  const ready = new Float64Array(MINUTES);
  const backlog = new Float64Array(MINUTES);
  const violation = new Uint8Array(MINUTES);
  let queue = 0;
  for (let m = 0; m < MINUTES; m++) {
    ready[m] = Math.max(1, Math.ceil((load[Math.max(0, m - lag)]! * headroom) / PER_TASK));
    queue = Math.max(0, queue + (load[m]! - ready[m]! * PER_TASK) * 60);
    backlog[m] = queue;
    violation[m] = queue > 0.05 * ready[m]! * PER_TASK * 60 ? 1 : 0;
  }
  return { policy: name, ready, tasks: ready.map((r, m) => r + (m % 97 === 0 ? 1 : 0)), backlog, violation };
}

const tt = policy('target-tracking', 10, 1);
const ml = policy('mlscale', 3, 1.2);
const oracle = policy('oracle', 0, 1);

const INPUT: ReportInput = {
  title: 'Browser test: 3 days, a spike, an event, an emergency',
  startMs: START,
  loadRps: load,
  capacityPerTask: PER_TASK,
  series: [tt, { ...ml, violation: undefined }, oracle],
  markers: [
    ...violationRanges(ml.violation).map((r) => ({ kind: 'violation' as const, policy: 'mlscale', ...r })),
    { kind: 'emergency', policy: 'mlscale', from: EMERGENCY, to: EMERGENCY + 1, label: 'emergency scale-out' },
    { kind: 'event', from: EVENT.from, to: EVENT.to, label: 'product launch' },
  ],
  table: { headers: ['policy', 'task-minutes'], rows: [['target-tracking', '1'], ['mlscale', '2'], ['oracle', '3']] },
  notes: ['synthetic input'],
};

// ------------------------------------------------------------ the page, as the test sees it

/** The bits of a uPlot instance (window.__mlscaleCharts[i]) the page functions below read. */
interface PageChart {
  readonly scales: { readonly x: { readonly min: number; readonly max: number } };
  readonly bbox: { readonly left: number; readonly top: number; readonly width: number; readonly height: number };
  readonly ctx: { readonly canvas: { readonly width: number; readonly height: number }; getImageData(x: number, y: number, w: number, h: number): { readonly data: ArrayLike<number> } };
  readonly over: { getBoundingClientRect(): { left: number; top: number; width: number; height: number } };
  readonly root: { querySelector(s: string): { getBoundingClientRect(): { top: number; bottom: number } } | null };
  valToPos(v: number, scale: string, canvasPixels?: boolean): number;
}
type PageGlobal = { readonly __mlscaleCharts?: readonly PageChart[] };

const xRange = (page: Page, i: number) =>
  page.evaluate((i) => {
    const c = (globalThis as unknown as PageGlobal).__mlscaleCharts![i]!;
    return [c.scales.x.min, c.scales.x.max] as const;
  }, i);

let browser: Browser | undefined;
let dir: string | undefined;
const problems: string[] = [];
let opened: Promise<Page> | undefined;

/**
 * The report open in Chromium, once for the file. Every test awaits it, so a
 * missing browser fails each test with the one-line message (a failing
 * beforeAll would only mark them skipped).
 */
function report(): Promise<Page> {
  opened ??= (async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (Debian), or set MLSCALE_CHROMIUM to a Chromium binary`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    dir = mkdtempSync(path.join(tmpdir(), 'mlscale-report-'));
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderReport(INPUT));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(5_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobal).__mlscaleCharts?.length === 2);
    return page;
  })();
  return opened;
}

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the --html report in headless Chromium', { timeout: 20_000 }, () => {
  it('loads without errors or requests, with both chart canvases and the legend below each plot', async () => {
    const page = await report();
    expect(problems).toEqual([]);
    const boxes = await page.evaluate(() =>
      (globalThis as unknown as PageGlobal).__mlscaleCharts!.map((c) => {
        const canvas = c.root.querySelector('canvas')!.getBoundingClientRect();
        const legend = c.root.querySelector('.u-legend')!.getBoundingClientRect();
        return { width: c.ctx.canvas.width, height: c.ctx.canvas.height, canvasBottom: canvas.bottom, legendTop: legend.top };
      }),
    );
    expect(boxes).toHaveLength(2);
    for (const b of boxes) {
      expect(b.width).toBeGreaterThan(600);
      expect(b.height).toBeGreaterThan(150);
      expect(b.legendTop).toBeGreaterThanOrEqual(b.canvasBottom - 1); // outside the plot, not over it
    }
    expect(await page.locator('#chart-capacity canvas').count()).toBe(1);
    expect(await page.locator('#chart-backlog canvas').count()).toBe(1);
    expect(await page.locator('#chart-error').textContent()).toBe('');
  });

  it('draws every series in its own colour, and the markers where they belong', async () => {
    const page = await report();
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const startSec = START / 1000;
    const stats = await page.evaluate(
      ({ colors, startSec, emergency, event }) => {
        // The canvas is transparent where nothing is drawn: composite over the page's white, as it is seen.
        const seen = (d: ArrayLike<number>, i: number) => [0, 1, 2].map((k) => Math.round((d[i + k]! * d[i + 3]!) / 255 + 255 * (1 - d[i + 3]! / 255)));
        const near = (p: readonly number[], rgb: readonly number[], tol: number) => Math.abs(p[0]! - rgb[0]!) + Math.abs(p[1]! - rgb[1]!) + Math.abs(p[2]! - rgb[2]!) <= tol;
        return (globalThis as unknown as PageGlobal).__mlscaleCharts!.map((c) => {
          const { left, top, width, height } = c.bbox;
          const d = c.ctx.getImageData(left, top, width, height).data;
          let nonWhite = 0;
          const perColor: Record<string, number> = {};
          for (const k of Object.keys(colors)) perColor[k] = 0;
          for (let i = 0; i < d.length; i += 4) {
            const p = seen(d, i);
            if (Math.min(...p) < 245) nonWhite++;
            for (const [k, rgb] of Object.entries(colors)) if (near(p, rgb, 40)) perColor[k]!++;
          }
          const px = (x: number, y: number) => seen(c.ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data, 0);
          // The emergency: a vertical line in mlscale's colour down the upper half of the plot (no series there at 06:00).
          const ex = c.valToPos(startSec + emergency * 60, 'x', true);
          let emergencyRows = 0;
          const rows = 40;
          for (let r = 0; r < rows; r++) {
            const y = top + height * (0.1 + (0.4 * r) / rows);
            const hit = [-1, 0, 1].some((dx) => {
              return near(px(ex + dx, y), colors.mlscale, 60);
            });
            if (hit) emergencyRows++;
          }
          // The planned event: grey inside its band, white an hour before it, at the same height.
          const bandX = c.valToPos(startSec + (event.from + 60) * 60, 'x', true);
          const outsideX = c.valToPos(startSec + (event.from - 180) * 60, 'x', true);
          const grey: number[][] = [];
          const white: number[][] = [];
          for (const f of [0.27, 0.3, 0.33]) {
            grey.push(px(bandX, top + height * f));
            white.push(px(outsideX, top + height * f));
          }
          return { width, height, nonWhite, perColor, emergencyRows, rows, grey, white };
        });
      },
      { colors: COLORS, startSec, emergency: EMERGENCY, event: EVENT },
    );
    for (const [i, s] of stats.entries()) {
      expect(s.nonWhite, `chart ${i}: painted pixels`).toBeGreaterThan(0.02 * s.width * s.height);
      for (const [name, n] of Object.entries(s.perColor)) expect(n, `chart ${i}: pixels in ${name}'s colour`).toBeGreaterThan(40);
      expect(s.emergencyRows, `chart ${i}: emergency line`).toBeGreaterThanOrEqual(s.rows * 0.9);
      const isGrey = (p: number[]) => Math.max(...p) - Math.min(...p) <= 12 && p[0]! < 240 && p[0]! > 150;
      expect(s.grey.filter(isGrey).length, `chart ${i}: event band ${JSON.stringify(s.grey)}`).toBeGreaterThanOrEqual(2);
      expect(s.white.filter((p) => Math.min(...p) >= 250).length, `chart ${i}: outside the band ${JSON.stringify(s.white)}`).toBeGreaterThanOrEqual(2);
    }
  });

  it('marks violation minutes in a lane per policy along the top, in the policy colour', async () => {
    const page = await report();
    const startSec = START / 1000;
    const lanes = await page.evaluate(
      ({ startSec, spike }) => {
        const c = (globalThis as unknown as PageGlobal).__mlscaleCharts![1]!;
        // Lanes are 5 px with a 1 px gap, in draw order of the policies with violations: mlscale, then target tracking.
        const at = (minute: number, lane: number) => {
          const d = c.ctx.getImageData(Math.round(c.valToPos(startSec + minute * 60, 'x', true)), c.bbox.top + lane * 6 + 2, 1, 1).data;
          return [0, 1, 2].map((k) => Math.round((d[k]! * d[3]!) / 255 + 255 * (1 - d[3]! / 255)));
        };
        return { mlscale: at(spike + 5, 0), tt: at(spike + 20, 1), ttInMlscaleLane: at(spike + 20, 0), calm: [at(spike - 240, 0), at(spike - 240, 1)] };
      },
      { startSec, spike: SPIKE.from },
    );
    const msg = JSON.stringify(lanes);
    // mlscale's violation (14:00-14:10): blue; target tracking's (through 14:39): orange-red, in its own lane only.
    expect(lanes.mlscale[2]! - lanes.mlscale[0]!, msg).toBeGreaterThan(60);
    expect(lanes.tt[0]! - lanes.tt[2]!, msg).toBeGreaterThan(60);
    expect(Math.min(...lanes.ttInMlscaleLane), msg).toBeGreaterThan(200); // only the faint band there
    for (const p of lanes.calm) expect(Math.min(...p), msg).toBeGreaterThanOrEqual(250);
  });

  it('zooms by drag-select on one chart, moves both, zooms with the wheel, and resets', async () => {
    const page = await report();
    const full = await xRange(page, 0);
    expect(full).toEqual([START / 1000, START / 1000 + MINUTES * 60]);
    const over = await page.locator('#chart-capacity .u-over').boundingBox();
    expect(over).not.toBeNull();
    const y = over!.y + over!.height / 2;
    await page.mouse.move(over!.x + over!.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(over!.x + over!.width * 0.5, y, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobal).__mlscaleCharts![1]!.scales.x.max - (globalThis as unknown as PageGlobal).__mlscaleCharts![1]!.scales.x.min < 86_400 * 2);
    const zoomed = await xRange(page, 0);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-zoomed.png'), fullPage: true });
    const span = full[1] - full[0];
    expect(zoomed[0]).toBeCloseTo(full[0] + 0.3 * span, -3); // within ~500 s of the drag start
    expect(zoomed[1]).toBeCloseTo(full[0] + 0.5 * span, -3);
    expect(await xRange(page, 1)).toEqual(zoomed);

    await page.mouse.move(over!.x + over!.width * 0.5, y);
    await page.mouse.wheel(0, -200);
    await page.waitForFunction(
      (w) => {
        const c = (globalThis as unknown as PageGlobal).__mlscaleCharts![0]!;
        return c.scales.x.max - c.scales.x.min < w * 0.8;
      },
      zoomed[1] - zoomed[0],
    );
    const wheeled = await xRange(page, 0);
    expect(wheeled[1] - wheeled[0]).toBeCloseTo((zoomed[1] - zoomed[0]) * 0.75, 0);
    expect(wheeled[0]).toBeGreaterThanOrEqual(zoomed[0]);
    expect(wheeled[1]).toBeLessThanOrEqual(zoomed[1]);

    await page.click('#zoom-reset');
    expect(await xRange(page, 0)).toEqual(full);
    expect(await xRange(page, 1)).toEqual(full);
    expect(problems).toEqual([]);
  });
});

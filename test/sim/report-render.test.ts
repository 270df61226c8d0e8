import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { clientHelpers } from '../../src/sim/report/assets';
import { bucketMax, bucketMinutes } from '../../src/sim/report/downsample';
import { violationRanges } from '../../src/sim/report/markers';
import type { ReportInput } from '../../src/sim/report/model';
import { chartData, collectMarkers, renderReport, seriesStyles } from '../../src/sim/report/render';

const UPLOT_DIR = path.dirname(createRequire(__filename).resolve('uplot/package.json'));
const DAY = Date.UTC(2026, 5, 2);
const H = clientHelpers();

/** A small report: `minutes` of load, two policies. */
function input(overrides: Partial<ReportInput> = {}, minutes = 120): ReportInput {
  const load = Array.from({ length: minutes }, (_, m) => 100 + (m % 60));
  const ready = load.map((l) => Math.ceil(l / 50));
  return {
    title: 'test report',
    startMs: DAY,
    loadRps: load,
    capacityPerTask: 50,
    series: [
      { policy: 'target-tracking', ready, tasks: ready, backlog: load.map(() => 0) },
      { policy: 'mlscale', ready, tasks: ready.map((r) => r + 1), backlog: load.map((_, m) => (m === 10 ? 500 : 0)) },
    ],
    markers: [],
    table: { headers: ['policy', 'task-minutes'], rows: [['target-tracking', '1,000'], ['mlscale', '1,100']] },
    notes: [],
    ...overrides,
  };
}

/** The inline chart JSON of a rendered page, parsed back. */
function pageData(html: string): ReturnType<typeof chartData> {
  const m = /<script type="application\/json" id="mlscale-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m, 'inline JSON data').not.toBeNull();
  return JSON.parse(m![1]!) as ReturnType<typeof chartData>;
}

describe('renderReport: a self-contained page', () => {
  it('inlines uPlot (script and stylesheet) and loads nothing from the network', () => {
    const html = renderReport(input());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    const js = readFileSync(path.join(UPLOT_DIR, 'dist', 'uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(path.join(UPLOT_DIR, 'dist', 'uPlot.min.css'), 'utf8');
    expect(html).toContain(js.slice(60, 4000));
    expect(html).toContain(js.slice(-2000));
    expect(html).toContain(css);
    expect(html).toContain('Permission is hereby granted'); // uPlot's MIT notice travels with its code
    expect(html).not.toMatch(/src\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/<link[^>]+href\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/<(script|img|iframe)[^>]*\ssrc\s*=/i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain('id="chart-capacity"');
    expect(html).toContain('id="chart-backlog"');
  });

  it('HTML-escapes the title, notes and table, and keeps markup out of the inline JSON and scripts', () => {
    const evil = '</script><script>alert(1)</script> & "q"';
    const html = renderReport(
      input({
        title: `<b>x</b> & "y"`,
        notes: [`trace rescaled ×2.5 <i>so</i>`],
        markers: [{ kind: 'event', from: 5, to: 30, label: evil }],
        table: { headers: ['policy', '<th>'], rows: [['mlscale', '<td>']] },
      }),
    );
    expect(html).toContain('<title>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;</title>');
    expect(html).toContain('<h1>&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;</h1>');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('<li>trace rescaled ×2.5 &lt;i&gt;so&lt;/i&gt;</li>');
    expect(html).toContain('<th>&lt;th&gt;</th>');
    expect(html).not.toContain('<script>alert(1)');
    // Exactly the page's own scripts: the data, uPlot, the page script, the mount call.
    expect(html.match(/<script[\s>]/g)).toHaveLength(4);
    expect(html.match(/<\/script>/gi)).toHaveLength(4);
    expect(pageData(html).markers.events).toEqual([{ from: 5, to: 30, label: evil }]);
  });

  it('renders the notes list, and no Notes heading without notes', () => {
    const html = renderReport(input({ notes: ['trace rescaled ×3 (peak = 0.8 × max capacity)', 'gaps filled: 12'] }));
    expect(html).toContain('<h2>Notes</h2>');
    expect(html).toContain('<li>trace rescaled ×3 (peak = 0.8 × max capacity)</li>');
    expect(html).toContain('<li>gaps filled: 12</li>');
    expect(renderReport(input())).not.toContain('<h2>Notes</h2>');
  });

  it('is the same bytes for the same input (no generation time)', () => {
    expect(renderReport(input())).toBe(renderReport(input()));
    expect(renderReport(input())).not.toMatch(/Generated|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  });
});

describe('renderReport: the tuning verdict', () => {
  const heldOut = 'Held-out half (720 minutes): tuned 4,927 task-minutes; defaults 4,217.';

  it('says "Keep the defaults" with the reason, and never "Recommended changes", when the verdict is keep', () => {
    const html = renderReport(input({ tuning: { recommend: false, reason: 'no saving on the held-out half', fragment: { 'thresholds.cpuPercent': 55 }, heldOut } }));
    expect(html).toContain('Keep the defaults');
    expect(html).toContain('no saving on the held-out half');
    expect(html).toContain(heldOut);
    expect(html).not.toContain('Recommended changes');
    expect(html).not.toContain('thresholds.cpuPercent');
  });

  it('shows the recommended changes as the JSON fragment when the verdict is recommend', () => {
    const html = renderReport(input({ tuning: { recommend: true, reason: '12 % fewer task-minutes', fragment: { 'pools[0].scaleInCooldownSeconds': 60 } } }));
    expect(html).toContain('Recommended changes');
    expect(html).toContain('12 % fewer task-minutes');
    expect(html).toContain('{\n  &quot;pools[0].scaleInCooldownSeconds&quot;: 60\n}');
    expect(html).not.toContain('Keep the defaults');
  });

  it('has no tuning section without a tuning result', () => {
    const html = renderReport(input());
    expect(html).not.toContain('Keep the defaults');
    expect(html).not.toContain('Recommended changes');
    expect(html).not.toContain('id="tuning"');
  });
});

describe('renderReport: data, bucketing and styles', () => {
  it('plots every minute of a short trace, and says so', () => {
    const html = renderReport(input());
    const d = pageData(html);
    expect(d.bucketMinutes).toBe(1);
    expect(d.load).toHaveLength(120);
    expect(d.perTask).toBe(50);
    expect(html).toContain('One point per minute (120 minutes)');
  });

  it('buckets a 215-day trace to at most 20,000 points per series by maximum, and states the bucket', () => {
    const minutes = 215 * 1440;
    const load = new Float64Array(minutes).fill(10);
    load[123_457] = 9_999; // a one-minute spike must survive bucketing
    const zeros = new Float64Array(minutes);
    const backlog = new Float64Array(minutes);
    backlog[200_001] = 77;
    const html = renderReport({
      ...input(),
      loadRps: load,
      series: [{ policy: 'mlscale', ready: zeros, tasks: zeros, backlog }],
    });
    const d = pageData(html);
    expect(d.bucketMinutes).toBe(20);
    for (const values of [d.load, d.policies[0]!.ready, d.policies[0]!.tasks, d.policies[0]!.backlog]) expect(values.length).toBeLessThanOrEqual(20_000);
    expect(d.load).toHaveLength(minutes / 20);
    expect(d.load[Math.floor(123_457 / 20)]).toBe(9_999);
    expect(d.policies[0]!.backlog[Math.floor(200_001 / 20)]).toBe(77);
    expect(Math.max(...(d.load as number[]))).toBe(9_999);
    expect(html).toContain('Each point is the maximum of 20 minutes (309,600 minutes drawn as 15,480 points per series, at most 20,000)');
  });

  it('draws wider lines first, each policy in its own colour, dash pattern and width', () => {
    const d = chartData(input({ series: ['oracle', 'target-tracking', 'mlscale'].map((policy) => ({ policy, ready: [1], tasks: [1], backlog: [0] })), loadRps: [1] }));
    expect(d.policies.map((p) => p.name)).toEqual(['mlscale', 'target-tracking', 'oracle']);
    const widths = d.policies.map((p) => p.width);
    expect([...widths].sort((a, b) => b - a)).toEqual(widths);
    expect(new Set(d.policies.map((p) => p.color)).size).toBe(3);
    expect(new Set(d.policies.map((p) => JSON.stringify(p.dash))).size).toBe(3);
    expect(d.policies.find((p) => p.name === 'mlscale')!.dash).toEqual([]);
    expect(d.policies.find((p) => p.name === 'oracle')!.width).toBeLessThan(d.policies.find((p) => p.name === 'mlscale')!.width);
  });

  it('gives unknown policies distinct colours too', () => {
    const styles = seriesStyles(['a', 'b', 'c', 'mlscale']);
    expect(new Set(styles.map((s) => s.color)).size).toBe(4);
  });
});

describe('collectMarkers', () => {
  it('turns per-minute violation flags into ranges unless the policy has explicit violation markers', () => {
    const base = input({}, 10);
    const flags = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 1]);
    const m = collectMarkers({
      ...base,
      series: [
        { ...base.series[0]!, violation: flags },
        { ...base.series[1]!, violation: flags },
      ],
      markers: [
        { kind: 'violation', policy: 'mlscale', from: 4, to: 6 },
        { kind: 'emergency', policy: 'mlscale', from: 3, to: 4 },
        { kind: 'event', from: -5, to: 99, label: 'launch' },
      ],
    });
    expect(m.violations).toEqual([
      { policy: 'target-tracking', from: 1, to: 3 },
      { policy: 'mlscale', from: 4, to: 6 },
      { policy: 'target-tracking', from: 5, to: 6 },
      { policy: 'target-tracking', from: 9, to: 10 },
    ]);
    expect(m.emergencies).toEqual([{ policy: 'mlscale', at: 3, label: 'emergency' }]);
    expect(m.events).toEqual([{ from: 0, to: 10, label: 'launch' }]);
  });

  it('drops markers outside the trace or with no extent', () => {
    const m = collectMarkers(
      input(
        {
          markers: [
            { kind: 'event', from: 20, to: 30, label: 'after the end' },
            { kind: 'violation', policy: 'mlscale', from: 5, to: 5 },
            { kind: 'emergency', policy: 'mlscale', from: 10, to: 11 },
            { kind: 'event', from: Number.NaN, to: 3 },
          ],
        },
        10,
      ),
    );
    expect(m).toEqual({ violations: [], emergencies: [], events: [] });
  });
});

describe('violationRanges', () => {
  it('merges consecutive minutes into [from, to) ranges', () => {
    expect(violationRanges([false, true, true, false, true])).toEqual([
      { from: 1, to: 3 },
      { from: 4, to: 5 },
    ]);
    expect(violationRanges(Uint8Array.from([1, 1, 1]))).toEqual([{ from: 0, to: 3 }]);
    expect(violationRanges([0, 2, 0])).toEqual([{ from: 1, to: 2 }]);
    expect(violationRanges([])).toEqual([]);
    expect(violationRanges([false, false])).toEqual([]);
  });

  it('covers exactly the set minutes, with gaps between ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (flags) => {
        const ranges = violationRanges(flags);
        const covered = new Array<boolean>(flags.length).fill(false);
        let lastTo = -1;
        for (const r of ranges) {
          expect(r.to).toBeGreaterThan(r.from);
          expect(r.from).toBeGreaterThan(lastTo); // not touching the previous range: merged otherwise
          lastTo = r.to;
          for (let m = r.from; m < r.to; m++) covered[m] = true;
        }
        expect(covered).toEqual(flags);
      }),
    );
  });
});

describe('bucketing', () => {
  it('chooses the smallest round bucket that fits the point budget', () => {
    expect(bucketMinutes(1440, 20_000)).toBe(1);
    expect(bucketMinutes(20_000, 20_000)).toBe(1);
    expect(bucketMinutes(20_001, 20_000)).toBe(2);
    expect(bucketMinutes(215 * 1440, 20_000)).toBe(20);
    expect(bucketMinutes(100 * 365 * 1440, 20_000)).toBe(2880);
  });

  it('keeps each bucket maximum, the last bucket partial', () => {
    expect(bucketMax([1, 5, 2, 2, 9, 0, 3], 3)).toEqual([5, 9, 3]);
    expect(bucketMax(Float64Array.from([4, 1]), 1)).toEqual([4, 1]);
    expect(() => bucketMax([1], 0)).toThrow(/bucket size/);
  });
});

describe('axis helpers (client.js, as the page runs them)', () => {
  it('formats numbers with thousands separators', () => {
    expect(H.formatNumber(12_000)).toBe('12,000');
    expect(H.formatNumber(1_234_567.891)).toBe('1,234,568');
    expect(H.formatNumber(999)).toBe('999');
    expect(H.formatNumber(-1_234.5, 1)).toBe('-1,234.5');
    expect(H.formatNumber(12.345)).toBe('12.3');
    expect(H.formatNumber(0.5)).toBe('0.50');
    expect(H.formatNumber(-0.001, 1)).toBe('0.0');
    expect(H.formatNumber(Number.NaN)).toBe('–');
  });

  it('makes round ticks (1, 2 or 5 × 10^k) with matching labels', () => {
    expect(H.niceTicks(0, 1234, 5)).toEqual([0, 500, 1000]);
    expect(H.niceTicks(0, 13_000, 6)).toEqual([0, 5000, 10_000]);
    expect(H.niceTicks(0, 1, 10)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(H.niceTicks(0, 3.3, 10, true)).toEqual([0, 1, 2, 3]);
    expect(H.niceTicks(7, 7, 5)).toEqual([7]);
    expect(H.tickLabels([0, 5000, 10_000, 15_000])).toEqual(['0', '5,000', '10,000', '15,000']);
    expect(H.tickLabels([0, 0.5, 1])).toEqual(['0.0', '0.5', '1.0']);
    expect(H.niceRange(1180)).toEqual([-22.5, 1500]);
    expect(H.niceRange(1180, 7)).toEqual([-21, 1400]);
    expect(H.niceRange(0)).toEqual([-0.0225, 1.5]);
    expect(H.niceTicks(-22.5, 1500, 5)).toEqual([0, 500, 1000, 1500]); // the pad below 0 gets no tick
  });

  it('keeps ticks within the range, evenly spaced by a round step, no more than asked', () => {
    fc.assert(
      // Spans down to a millionth of the values' size: finer than any chart needs, coarse enough for doubles.
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.double({ min: 1e-6, max: 10, noNaN: true }), fc.integer({ min: 2, max: 12 }), (min, rel, count) => {
        const span = Math.max(1e-3, rel * Math.max(1, min));
        const ticks = H.niceTicks(min, min + span, count);
        expect(ticks.length).toBeGreaterThan(0);
        expect(ticks.length).toBeLessThanOrEqual(count + 1);
        const step = H.niceStep((min + span - min) / count);
        const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
        expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
        for (let i = 1; i < ticks.length; i++) expect(Math.abs(ticks[i]! - ticks[i - 1]! - step)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ticks[i]!)));
        for (const t of ticks) {
          expect(t).toBeGreaterThanOrEqual(min - step * 1e-6);
          expect(t).toBeLessThanOrEqual(min + span + step * 1e-6);
          expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-6);
        }
      }),
    );
  });

  describe('time ticks in UTC on round boundaries', () => {
    const original = process.env.TZ;
    afterEach(() => {
      process.env.TZ = original;
    });
    const sec = (iso: string) => Date.parse(iso) / 1000;

    it('puts ticks on whole quarter hours, with the date where the day changes', () => {
      const { step, ticks } = H.timeTicks(sec('2026-06-02T23:07:00Z'), sec('2026-06-03T01:13:00Z'), 9);
      expect(step.s).toBe(900);
      expect(ticks[0]).toBe(sec('2026-06-02T23:15:00Z'));
      for (const t of ticks) expect(t % 900).toBe(0);
      const labels = H.timeLabels(ticks, step);
      expect(labels[0]).toBe('23:15\nJun 2 2026');
      expect(labels[1]).toBe('23:30');
      expect(labels).toContain('00:00\nJun 3');
    });

    it('puts 3 days of ticks on 00:00 and 12:00 UTC, whatever the local time zone', () => {
      const run = () => {
        const r = H.timeTicks(sec('2026-06-02T10:00:00Z'), sec('2026-06-05T10:00:00Z'), 10);
        return { ...r, labels: H.timeLabels(r.ticks, r.step) };
      };
      process.env.TZ = 'UTC';
      const utc = run();
      process.env.TZ = 'America/Los_Angeles';
      const la = run();
      process.env.TZ = 'Asia/Kolkata';
      expect(run()).toEqual(utc);
      expect(la).toEqual(utc);
      expect(utc.step.s).toBe(12 * 3600);
      for (const t of utc.ticks) expect([0, 12]).toContain(new Date(t * 1000).getUTCHours());
      expect(utc.labels.slice(0, 2)).toEqual(['12:00\nJun 2 2026', '00:00\nJun 3']);
    });

    it('uses Mondays for weeks, the 1st for months', () => {
      const weeks = H.timeTicks(sec('2026-06-02T00:00:00Z'), sec('2026-08-01T00:00:00Z'), 10);
      expect(weeks.step.s).toBe(7 * 86400);
      for (const t of weeks.ticks) {
        const d = new Date(t * 1000);
        expect([d.getUTCDay(), d.getUTCHours(), d.getUTCMinutes()]).toEqual([1, 0, 0]);
      }
      const months = H.timeTicks(sec('2025-11-10T00:00:00Z'), sec('2026-06-13T00:00:00Z'), 8);
      expect(months.step.months).toBe(1);
      expect(months.ticks.map((t) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual([
        '2025-12-01',
        '2026-01-01',
        '2026-02-01',
        '2026-03-01',
        '2026-04-01',
        '2026-05-01',
        '2026-06-01',
      ]);
      expect(H.timeLabels(months.ticks, months.step).slice(0, 2)).toEqual(['Dec\n2025', 'Jan\n2026']);
    });

    it('labels instants as UTC', () => {
      process.env.TZ = 'Europe/Berlin';
      expect(H.formatUtc(sec('2026-06-02T10:15:00Z'))).toBe('2026-06-02 10:15 UTC');
      expect(H.formatDuration(3 * 86400)).toBe('3.0 days');
      expect(H.formatDuration(3600 + 20 * 60)).toBe('1 h 20 min');
    });
  });
});

/**
 * The `--html` report: one self-contained page. uPlot (script and stylesheet)
 * and the page script are inlined, the data is inline JSON; the page makes no
 * requests and opens from disk. The same input gives the same bytes.
 */
import { reportAssets } from './assets';
import { bucketMax, bucketMinutes } from './downsample';
import { violationRanges } from './markers';
import type { ReportInput, ReportSeries } from './model';

export const DEFAULT_MAX_POINTS = 20_000;

export interface SeriesStyle {
  readonly color: string;
  /** Canvas dash pattern in CSS pixels; empty = solid. */
  readonly dash: readonly number[];
  readonly width: number;
}

/**
 * Okabe-Ito colours (safe for the common colour-vision deficiencies), and a dash
 * pattern and width each, so series stay apart where they coincide: mlscale
 * wide and solid, target tracking dashed, the oracle thin and dotted, drawn in
 * that order so the thinner lines lie on top of the wider ones.
 */
const KNOWN: Readonly<Record<string, SeriesStyle>> = {
  mlscale: { color: '#0072B2', dash: [], width: 3 },
  'target-tracking': { color: '#D55E00', dash: [8, 4], width: 2 },
  oracle: { color: '#009E73', dash: [2, 3], width: 1.5 },
};
const PALETTE = ['#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const DASHES: readonly (readonly number[])[] = [[], [6, 3], [2, 2], [10, 3, 2, 3]];

/** The style of the i-th policy of a report (known policies keep theirs; others take the next free colour). */
export function seriesStyles(policies: readonly string[]): SeriesStyle[] {
  let next = 0;
  return policies.map((p) => {
    const known = KNOWN[p];
    if (known) return known;
    const i = next++;
    return { color: PALETTE[i % PALETTE.length]!, dash: DASHES[i % DASHES.length]!, width: 2.5 - Math.min(1, 0.5 * (i % 3)) };
  });
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Script text safe inside <script>: no `</script` or `<!--` can end or confuse the element. */
export const inlineScript = (js: string): string => js.replace(/<(\/script|!--)/gi, '<\\$1');

/** JSON safe inside <script type="application/json">: `<` escaped, so no `</script` or `<!--`. */
export const inlineJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const inlineCss = (css: string): string => css.replace(/<\/style/gi, '<\\/style');

const MINUTE_MS = 60_000;
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Rounded for the JSON (sub-unit precision is noise in a chart); non-finite values become null (a gap). */
function rounded(values: readonly number[], decimals: number): (number | null)[] {
  const f = 10 ** decimals;
  return values.map((v) => (Number.isFinite(v) ? Math.round(v * f) / f : null));
}

interface Markers {
  readonly violations: { policy: string; from: number; to: number }[];
  readonly emergencies: { policy: string; at: number; label: string }[];
  readonly events: { from: number; to: number; label: string }[];
}

/** The markers to draw: those given, plus violation ranges from each series' flags when none were given for it. Clamped to the trace, sorted. */
export function collectMarkers(input: ReportInput): Markers {
  const n = input.minutes ?? input.loadRps.length;
  const clamp = (m: number) => Math.min(n, Math.max(0, Math.floor(m)));
  const violations: Markers['violations'] = [];
  const emergencies: Markers['emergencies'] = [];
  const events: Markers['events'] = [];
  for (const m of input.markers) {
    if (!Number.isFinite(m.from) || !Number.isFinite(m.to)) continue;
    const from = clamp(m.from);
    if (m.kind === 'emergency') {
      if (m.from >= 0 && from < n) emergencies.push({ policy: m.policy ?? '', at: from, label: m.label ?? 'emergency' });
      continue;
    }
    const to = clamp(m.to);
    if (to <= from) continue;
    if (m.kind === 'violation') violations.push({ policy: m.policy ?? '', from, to });
    else events.push({ from, to, label: m.label ?? '' });
  }
  const given = new Set(violations.map((v) => v.policy));
  for (const s of input.series) {
    // Per-minute flags only: bucketed series carry their violations as markers.
    if (!s.violation || given.has(s.policy) || (input.bucketMinutes ?? 1) > 1) continue;
    for (const r of violationRanges(s.violation)) violations.push({ policy: s.policy, from: clamp(r.from), to: clamp(r.to) });
  }
  const order = (a: { from?: number; at?: number; policy?: string; label?: string }, b: typeof a) =>
    (a.from ?? a.at ?? 0) - (b.from ?? b.at ?? 0) || (a.policy ?? '').localeCompare(b.policy ?? '') || (a.label ?? '').localeCompare(b.label ?? '');
  return { violations: violations.sort(order), emergencies: emergencies.sort(order), events: events.sort(order) };
}

/** The inline JSON the page script draws from. */
export function chartData(input: ReportInput) {
  const minutes = input.minutes ?? input.loadRps.length;
  const maxPoints = input.maxPoints ?? DEFAULT_MAX_POINTS;
  const pre = input.bucketMinutes !== undefined && input.bucketMinutes >= 1 ? Math.floor(input.bucketMinutes) : undefined;
  const bucket = pre ?? bucketMinutes(minutes, maxPoints);
  // Already bucketed by the simulator: taken as they are.
  const points = (values: ArrayLike<number>) => (pre !== undefined ? Array.from(values) : bucketMax(values, bucket));
  const names = input.series.map((s) => s.policy);
  const styles = seriesStyles(names);
  // Widest first: each later (thinner, dashed or dotted) line is drawn over the earlier ones.
  const order = input.series.map((s, i) => ({ s, style: styles[i]!, i })).sort((a, b) => b.style.width - a.style.width || a.i - b.i);
  const perTask = input.capacityPerTask !== undefined && input.capacityPerTask > 0 && Number.isFinite(input.capacityPerTask) ? input.capacityPerTask : null;
  return {
    startSec: input.startMs / 1000,
    minutes,
    bucketMinutes: bucket,
    perTask,
    load: rounded(points(input.loadRps), 2),
    policies: order.map(({ s, style }: { s: ReportSeries; style: SeriesStyle }) => ({
      name: s.policy,
      color: style.color,
      dash: style.dash,
      width: style.width,
      ready: rounded(points(s.ready), 3),
      tasks: rounded(points(s.tasks), 3),
      backlog: rounded(points(s.backlog), 0),
    })),
    markers: collectMarkers(input),
  };
}

function bucketingLine(minutes: number, bucket: number, maxPoints: number): string {
  const points = Math.ceil(minutes / bucket);
  if (bucket === 1) return `One point per minute (${count(minutes, 'minute')}); nothing is bucketed.`;
  return (
    `Each point is the maximum of ${bucket} minutes (${count(minutes, 'minute')} drawn as ${count(points, 'point')} per series, at most ${maxPoints.toLocaleString('en-US')}); ` +
    'zooming in shows the same buckets. The table counts every minute. Markers are drawn at their exact minutes.'
  );
}

function table(input: ReportInput, colorOf: ReadonlyMap<string, string>): string {
  const head = input.table.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = input.table.rows
    .map((r) => {
      const cells = r.map((c, i) => {
        const color = i === 0 ? colorOf.get(c) : undefined;
        const swatch = color ? `<span class="sw" style="background:${color}"></span>` : '';
        return `<td>${swatch}${escapeHtml(c)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const LIST_LIMIT = 200;

function markerSection(input: ReportInput, m: Markers, colorOf: ReadonlyMap<string, string>): string {
  const at = (minute: number) => input.startMs + minute * MINUTE_MS;
  const swatch = (p: string) => `<span class="sw" style="background:${colorOf.get(p) ?? '#000000'}"></span>`;
  const zoom = (from: number, to: number) => `<button type="button" class="zoom" data-zoom="${from},${to}" title="zoom the charts here">zoom</button>`;
  const items: { minute: number; html: string }[] = [
    ...m.events.map((e) => ({
      minute: e.from,
      html: `${zoom(e.from, e.to)} ${utc(at(e.from))} – ${utc(at(e.to))}: planned event <b>${escapeHtml(e.label)}</b>`,
    })),
    ...m.emergencies.map((e) => ({
      minute: e.at,
      html: `${zoom(e.at, e.at + 1)} ${utc(at(e.at))}: ${swatch(e.policy)}${escapeHtml(e.policy)} ${escapeHtml(e.label)}`,
    })),
  ].sort((a, b) => a.minute - b.minute);
  const shown = items.slice(0, LIST_LIMIT).map((i) => `<li>${i.html}</li>`);
  if (items.length > LIST_LIMIT) shown.push(`<li>… and ${items.length - LIST_LIMIT} more</li>`);
  const perPolicy = input.series.map((s) => {
    const ranges = m.violations.filter((v) => v.policy === s.policy);
    const total = ranges.reduce((a, v) => a + v.to - v.from, 0);
    const longest = [...ranges].sort((a, b) => b.to - b.from - (a.to - a.from) || a.from - b.from)[0];
    const detail = longest ? `; longest ${count(longest.to - longest.from, 'minute')} from ${utc(at(longest.from))} ${zoom(longest.from, longest.to)}` : '';
    return `<li>${swatch(s.policy)}${escapeHtml(s.policy)}: ${count(total, 'violation minute')} in ${count(ranges.length, 'range')}${detail}</li>`;
  });
  return `<h2>Markers</h2>
<p class="help">On both charts: a faint band and a strip along the top in a policy's colour mark its SLO-violation minutes;
a vertical line with a ▼ at the top in a policy's colour marks an emergency scale-out; a grey band with its name marks a planned event.</p>
<ul class="markers">${perPolicy.join('\n')}</ul>
${shown.length ? `<ul class="markers">\n${shown.join('\n')}\n</ul>` : '<p>No emergencies or planned events in this trace.</p>'}`;
}

function tuningSection(t: NonNullable<ReportInput['tuning']>): string {
  const verdict = t.recommend
    ? `<h3>Recommended changes</h3>
<p>${escapeHtml(t.reason)}</p>
${t.fragment !== undefined ? `<pre class="fragment">${escapeHtml(JSON.stringify(t.fragment, null, 2))}</pre>` : ''}
${t.apply ? `<p>${escapeHtml(t.apply)}</p>` : ''}`
    : `<h3>Keep the defaults</h3>
<p>${escapeHtml(t.reason)}</p>`;
  return `<section id="tuning"><h2>Tuning (fitted on the first half, judged on the second)</h2>
${verdict}
${t.heldOut ? `<p>${escapeHtml(t.heldOut)}</p>` : ''}
</section>`;
}

const PAGE_CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em auto; padding: 0 1.5em; color: #222; max-width: 1280px; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin: 1.4em 0 0.4em; } h3 { font-size: 1em; }
.subtitle, .help, .bucketing { color: #444; margin: 0.3em 0; }
table.summary { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.summary td, table.summary th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
table.summary td:first-child, table.summary th:first-child { text-align: left; white-space: nowrap; }
.sw { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; vertical-align: baseline; border-radius: 2px; }
.chart { width: 100%; margin: 0.3em 0 0.8em; }
.controls { display: flex; gap: 0.5em; align-items: center; flex-wrap: wrap; margin: 0.4em 0; }
.controls button, button.zoom { font: inherit; font-size: 0.9em; padding: 1px 8px; cursor: pointer; }
#range { color: #444; font-variant-numeric: tabular-nums; }
.error { color: #b00020; font-weight: 600; }
pre.fragment, code { background: #f4f4f4; padding: 6px 10px; }
ul.markers { padding-left: 1.2em; } ul.markers li { margin: 2px 0; }
.uplot { width: 100%; } .u-legend { text-align: left; margin: 0.2em 0 0; font-size: 13px; } .u-legend .u-marker { border-radius: 2px; }
footer { margin-top: 2em; color: #666; font-size: 0.85em; }
`;

/** The report page for `input`: a complete, self-contained HTML document (UTF-8). */
export function renderReport(input: ReportInput): string {
  const assets = reportAssets();
  const data = chartData(input);
  const colorOf = new Map(data.policies.map((p) => [p.name, p.color]));
  const maxPoints = input.maxPoints ?? DEFAULT_MAX_POINTS;
  const perTask = data.perTask;
  const capacityHelp = perTask
    ? `Load in req/s (left axis, grey area) and each policy's ready (serving) tasks (right axis). The task axis is the load axis ÷ ${perTask.toLocaleString('en-US')} req/s per task, so a policy's line level with the load has exactly enough capacity for it.`
    : "Load in req/s (left axis, grey area) and each policy's ready (serving) tasks (right axis).";
  const notes = input.notes.length ? `<h2>Notes</h2>\n<ul class="notes">\n${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('\n')}\n</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>${inlineCss(assets.uplotCss)}</style>
<style>${PAGE_CSS}</style>
</head><body>
<h1>${escapeHtml(input.title)}</h1>
${input.subtitle ? `<p class="subtitle">${escapeHtml(input.subtitle)}</p>` : ''}
${table(input, colorOf)}
${notes}
<h2>Load and ready capacity</h2>
<p class="help">${escapeHtml(capacityHelp)} Tasks paid for (ready + starting) are in the legend, hidden: click a legend entry to show or hide it.</p>
<p class="bucketing">${escapeHtml(bucketingLine(data.minutes, data.bucketMinutes, maxPoints))}</p>
<div class="controls"><button type="button" id="zoom-reset">Reset zoom</button><button type="button" id="zoom-out">Zoom out</button><button type="button" id="pan-left">◀ Earlier</button><button type="button" id="pan-right">Later ▶</button>
<span class="help">Drag across a chart to zoom in; the mouse wheel zooms about the cursor, shift+wheel pans; double-click resets. Both charts move together.</span></div>
<p id="range"></p>
<noscript><p class="error">The charts need JavaScript (inline in this file; nothing is downloaded).</p></noscript>
<p id="chart-error" class="error"></p>
<div id="chart-capacity" class="chart" role="img" aria-label="Load and ready capacity over time"></div>
<h2>Backlog (requests waiting)</h2>
<div id="chart-backlog" class="chart" role="img" aria-label="Backlog over time"></div>
${markerSection(input, data.markers, colorOf)}
${input.tuning ? tuningSection(input.tuning) : ''}
<footer>mlscale what-if simulator; the model and its assumptions are in docs/simulator.md. Charts drawn with uPlot ${escapeHtml(assets.uplotVersion)} (MIT licence, inlined below).</footer>
<script type="application/json" id="mlscale-data">${inlineJson(data)}</script>
<script>/*! uPlot ${assets.uplotVersion}\n${inlineScript(assets.uplotLicense.replace(/\*\//g, '* /'))}\n*/
${inlineScript(assets.uplotJs)}</script>
<script>${inlineScript(assets.clientJs)}</script>
<script>
try { mlscaleReport.mount(JSON.parse(document.getElementById('mlscale-data').textContent)); }
catch (e) { document.getElementById('chart-error').textContent = 'The charts failed to draw: ' + e.message; throw e; }
</script>
</body></html>
`;
}

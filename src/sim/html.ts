/**
 * The `--html` report: one self-contained page (inline SVG and CSS, no
 * scripts, no network) with the summary table, load against ready capacity
 * per policy, and backlog over time.
 */
import type { Comparison } from './compare';
import type { PolicyName } from './simulate';
import { maxOf } from './trace';
import type { TuneResult } from './tune';

const COLORS: Record<PolicyName | 'load', string> = {
  load: '#222222',
  'target-tracking': '#d95f02',
  mlscale: '#1b9e77',
  oracle: '#7570b3',
};

const W = 1100;
const H = 300;
const PAD = { left: 60, right: 20, top: 20, bottom: 30 };
const MAX_POINTS = 1_200;

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Downsample to at most MAX_POINTS buckets, keeping each bucket's maximum (peaks matter). */
function buckets(values: ArrayLike<number>): number[] {
  const n = values.length;
  const size = Math.max(1, Math.ceil(n / MAX_POINTS));
  const out: number[] = [];
  for (let i = 0; i < n; i += size) {
    let max = -Infinity;
    for (let j = i; j < Math.min(n, i + size); j++) max = Math.max(max, values[j]!);
    out.push(max);
  }
  return out;
}

function chart(title: string, unit: string, series: { label: string; color: string; values: number[]; dashed?: boolean }[], start: number, minutes: number): string {
  const maxY = Math.max(1, ...series.map((s) => maxOf(s.values))) * 1.05;
  const len = Math.max(...series.map((s) => s.values.length));
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * i) / Math.max(1, len - 1);
  const y = (v: number) => H - PAD.bottom - ((H - PAD.top - PAD.bottom) * v) / maxY;
  const lines = series
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${s.values
          .map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<text x="${PAD.left - 6}" y="${y(maxY * f) + 4}" text-anchor="end">${(maxY * f).toFixed(maxY < 10 ? 1 : 0)}</text>`)
    .join('');
  const timeTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const t = new Date(start + f * minutes * 60_000).toISOString().slice(0, 16).replace('T', ' ');
      const anchor = f === 0 ? 'start' : f === 1 ? 'end' : 'middle';
      return `<text x="${PAD.left + (W - PAD.left - PAD.right) * f}" y="${H - 8}" text-anchor="${anchor}">${t}</text>`;
    })
    .join('');
  // Inline style: the page's CSS colours axis text, and CSS beats presentation attributes.
  const legend = series.map((s, i) => `<text x="${PAD.left + 10 + i * 190}" y="${PAD.top}" style="fill:${s.color}">■ ${escape(s.label)}</text>`).join('');
  return `<h2>${escape(title)}</h2>
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${escape(title)}">
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#999"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#999"/>
<text x="12" y="${PAD.top + 10}" transform="rotate(-90 12 ${PAD.top + 10})" text-anchor="end">${escape(unit)}</text>
${ticks}${timeTicks}${legend}
${lines}
</svg>`;
}

export function htmlReport(c: Comparison, policies: readonly PolicyName[], title: string, tuned?: TuneResult): string {
  const perTask = c.pool.capacityPerTask;
  const loadSeries = { label: 'load (req/s)', color: COLORS.load, values: buckets(c.loadRps) };
  const capacity = policies.map((p) => ({
    label: `${p} ready capacity`,
    color: COLORS[p],
    values: buckets(Float64Array.from(c.timelines[p].ready, (r) => r * perTask)),
    dashed: p === 'oracle',
  }));
  const backlog = policies.map((p) => ({ label: `${p} backlog`, color: COLORS[p], values: buckets(c.timelines[p].backlog) }));
  const start = Date.parse(c.trace.start);
  const rows = policies
    .map((p) => {
      const r = c.policies[p];
      return `<tr><td style="color:${COLORS[p]}">${p}</td><td>${r.taskMinutes}</td><td>${r.vsOracle.taskMinutes.toFixed(2)}</td><td>${r.costUsd.toFixed(2)}</td><td>${r.violationMinutes}</td><td>${r.violationPercent.toFixed(2)} %</td><td>${r.peakBacklog}</td><td>${r.scaleActions}</td><td>${r.coldStarts}</td><td>${r.emergencies}</td></tr>`;
    })
    .join('\n');
  const tuning = tuned
    ? `<h2>Tuning (fitted on the first half, judged on the second)</h2>
<p>${tuned.changes.length ? 'Recommended changes:' : 'The defaults were best; no change recommended.'}</p>
<ul>${tuned.changes.map((ch) => `<li><code>${escape(ch.path)}</code>: ${ch.from} → ${ch.to}</li>`).join('')}</ul>
<p>Held-out half (${tuned.heldOut.minutes} minutes): mlscale tuned ${tuned.heldOut.mlscale.taskMinutes} task-minutes (${(tuned.heldOut.mlscale.taskMinutes / Math.max(1, tuned.heldOut.oracle.taskMinutes)).toFixed(2)} × oracle), ${tuned.heldOut.mlscale.violationPercent.toFixed(2)} % violation minutes; with the defaults ${tuned.heldOut.defaults.taskMinutes} task-minutes, ${tuned.heldOut.defaults.violationPercent.toFixed(2)} %.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; } svg text { font-size: 11px; fill: #444; } code { background: #f4f4f4; padding: 1px 4px; }
</style></head><body>
<h1>${escape(title)}</h1>
<p>Pool <b>${escape(c.pool.name)}</b> (${escape(c.pool.kind)}, ${c.pool.minCapacity}-${c.pool.maxCapacity} tasks, ${perTask} req/s per task, start-up ${c.pool.startupSeconds} s).
Trace <b>${escape(c.trace.name)}</b>: ${c.minutes} minutes from ${escape(c.trace.start)}, ${escape(c.trace.shape)} every ${c.trace.intervalSeconds} s, peak ${c.trace.peakRps} req/s, mean ${c.trace.meanRps} req/s.</p>
<table><tr><th>policy</th><th>task-minutes</th><th>× oracle</th><th>cost $</th><th>violation minutes</th><th>violation %</th><th>peak backlog</th><th>scale actions</th><th>cold starts</th><th>emergencies</th></tr>
${rows}</table>
${chart('Load and ready capacity', 'req/s', [loadSeries, ...capacity], start, c.minutes)}
${chart('Backlog (requests waiting)', 'requests', backlog, start, c.minutes)}
${tuning}
<p><small>mlscale what-if simulator; model and assumptions in docs/simulator.md. Generated ${new Date().toISOString()}.</small></p>
</body></html>
`;
}

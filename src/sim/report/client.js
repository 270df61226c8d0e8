/*
 * mlscale simulation report: the page script. render.ts inlines this file
 * after uPlot; the report calls mlscaleReport.mount(data) with the inline JSON.
 * The axis helpers (round ticks, thousands separators, UTC time ticks) are
 * pure and also run in Node for the unit tests (assets.ts evaluates this file).
 * Plain ES2020 for the browser: no imports, no build step.
 */
/* global uPlot, document, window */
globalThis.mlscaleReport = (function () {
  'use strict';

  const MINUTE = 60;
  const HOUR = 3600;
  const DAY = 86400;
  const WEEK = 7 * DAY;
  /** The first Monday 00:00 UTC after the epoch (1970-01-05): weeks start on Mondays. */
  const MONDAY = 4 * DAY;
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

  // ---------------------------------------------------------------- numbers

  /** `v` with thousands separators (12,000; 1,234.5); `decimals` fixed, or chosen from the size of `v`. */
  function formatNumber(v, decimals) {
    if (v == null || Number.isNaN(v)) return '–';
    if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
    const abs = Math.abs(v);
    const d = decimals != null ? decimals : Number.isInteger(v) || abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    const fixed = abs.toFixed(d);
    const dot = fixed.indexOf('.');
    const int = dot < 0 ? fixed : fixed.slice(0, dot);
    const frac = dot < 0 ? '' : fixed.slice(dot);
    const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    const negative = v < 0 && Number(fixed) !== 0;
    return (negative ? '-' : '') + grouped + frac;
  }

  /** The smallest 1, 2 or 5 × 10^k that is at least `raw`. */
  function niceStep(raw) {
    if (!(raw > 0) || !Number.isFinite(raw)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw * (1 - 1e-9)) return m * p;
    return 10 * p;
  }

  /** Decimals a tick step needs (0.5 → 1, 0.01 → 2, 200 → 0). */
  function stepDecimals(step) {
    return step >= 1 ? 0 : Math.min(12, Math.ceil(-Math.log10(step) - 1e-9));
  }

  /** Round ticks in [min, max]: multiples of a 1/2/5 step, at most about `maxCount` of them; whole numbers if `integer`. */
  function niceTicks(min, max, maxCount, integer) {
    if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
    if (!(max > min)) return [min];
    let step = niceStep((max - min) / Math.max(1, maxCount));
    if (integer) step = Math.max(1, step);
    const d = stepDecimals(step);
    const out = [];
    const first = Math.ceil(min / step - 1e-9);
    for (let i = first; i * step <= max + step * 1e-9; i++) out.push(Number((i * step).toFixed(d)));
    return out;
  }

  /**
   * A y range up to a round number a little above `max`, from a hair below 0
   * so that lines at zero stay visible above the x axis.
   */
  function niceRange(max, count) {
    const top = Math.max(1, Number.isFinite(max) ? max : 1) * 1.05;
    const step = niceStep(top / Math.max(1, count || 5));
    const hi = Math.ceil(top / step - 1e-9) * step;
    return [-0.015 * hi, hi];
  }

  /** Tick labels for a list of ticks: separators, and the decimals the step needs (so 0.5 and 1.0 line up). */
  function tickLabels(ticks) {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
    const d = stepDecimals(step);
    return ticks.map((t) => formatNumber(t, d));
  }

  // ---------------------------------------------------------------- time (UTC)

  /** Tick steps on round UTC boundaries, smallest first; `s` in seconds (months and years are calendar steps). */
  const TIME_STEPS = [
    { s: MINUTE }, { s: 2 * MINUTE }, { s: 5 * MINUTE }, { s: 10 * MINUTE }, { s: 15 * MINUTE }, { s: 30 * MINUTE },
    { s: HOUR }, { s: 2 * HOUR }, { s: 3 * HOUR }, { s: 6 * HOUR }, { s: 12 * HOUR },
    { s: DAY }, { s: 2 * DAY }, { s: WEEK, week: true },
    { s: 30.44 * DAY, months: 1 }, { s: 91.3 * DAY, months: 3 }, { s: 182.6 * DAY, months: 6 }, { s: 365.25 * DAY, months: 12 },
  ];

  /** The smallest round step that gives at most `maxCount` ticks over `rangeSec` seconds. */
  function timeStep(rangeSec, maxCount) {
    const n = Math.max(1, maxCount);
    for (const st of TIME_STEPS) if (rangeSec / st.s <= n) return st;
    const years = Math.ceil(rangeSec / (365.25 * DAY) / n);
    return { s: years * 365.25 * DAY, months: 12 * niceStep(years) };
  }

  /** Ticks (epoch seconds) on round UTC boundaries between minSec and maxSec: whole minutes, hours, days, Mondays, months, years. */
  function timeTicks(minSec, maxSec, maxCount) {
    if (!(maxSec > minSec)) return { step: TIME_STEPS[0], ticks: [minSec] };
    const st = timeStep(maxSec - minSec, maxCount);
    const ticks = [];
    if (st.months) {
      const d = new Date(minSec * 1000);
      let y = d.getUTCFullYear();
      let m = d.getUTCMonth();
      m = Math.floor(m / st.months) * st.months;
      for (;;) {
        const t = Date.UTC(y, m, 1) / 1000;
        if (t > maxSec) break;
        if (t >= minSec) ticks.push(t);
        m += st.months;
        if (m >= 12) {
          y += Math.floor(m / 12);
          m %= 12;
        }
      }
    } else {
      const origin = st.week ? MONDAY : 0;
      for (let t = Math.ceil((minSec - origin) / st.s) * st.s + origin; t <= maxSec; t += st.s) ticks.push(t);
    }
    return { step: st, ticks };
  }

  const pad2 = (n) => (n < 10 ? '0' : '') + n;
  const dayLabel = (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;

  /** Labels for time ticks: HH:MM below a day (with the date where it changes), dates above, months and years beyond. */
  function timeLabels(ticks, step) {
    let prev = null;
    return ticks.map((t) => {
      const d = new Date(t * 1000);
      const first = prev === null;
      const newDay = first || prev.getUTCDate() !== d.getUTCDate() || prev.getUTCMonth() !== d.getUTCMonth();
      const newYear = first || prev.getUTCFullYear() !== d.getUTCFullYear();
      prev = d;
      if (step.months) {
        if (step.months >= 12) return String(d.getUTCFullYear());
        return newYear ? `${MONTHS[d.getUTCMonth()]}\n${d.getUTCFullYear()}` : MONTHS[d.getUTCMonth()];
      }
      if (step.s >= DAY) {
        const wd = step.s < WEEK ? `${WEEKDAYS[d.getUTCDay()]} ` : '';
        return newYear ? `${wd}${dayLabel(d)}\n${d.getUTCFullYear()}` : `${wd}${dayLabel(d)}`;
      }
      const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
      if (newDay) return `${hm}\n${dayLabel(d)}${newYear ? ` ${d.getUTCFullYear()}` : ''}`;
      return hm;
    });
  }

  /** "2026-06-02 10:15 UTC". */
  function formatUtc(sec) {
    if (sec == null || !Number.isFinite(sec)) return '–';
    return `${new Date(Math.round(sec) * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  }

  /** "3 h 20 min", "2.5 days". */
  function formatDuration(sec) {
    if (sec < HOUR) return `${Math.round(sec / MINUTE)} min`;
    if (sec < 2 * DAY) {
      const h = Math.floor(sec / HOUR);
      const m = Math.round((sec - h * HOUR) / MINUTE);
      return m ? `${h} h ${m} min` : `${h} h`;
    }
    return `${formatNumber(sec / DAY, 1)} days`;
  }

  // ---------------------------------------------------------------- the page

  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }

  function mount(data) {
    const charts = [];
    window.__mlscaleCharts = charts;
    const startSec = data.startSec;
    const endSec = startSec + data.minutes * MINUTE;
    const bucketSec = data.bucketMinutes * MINUTE;
    const nb = data.load.length;
    // One x per bucket start, plus the end of the trace: step paths then cover the last bucket too.
    const xs = new Array(nb + 1);
    for (let i = 0; i < nb; i++) xs[i] = startSec + i * bucketSec;
    xs[nb] = endSec;
    const withEnd = (values, k) => {
      const out = new Array(nb + 1);
      for (let i = 0; i < nb; i++) out[i] = values[i] == null ? null : values[i] * k;
      out[nb] = nb > 0 ? out[nb - 1] : null;
      return out;
    };
    const minSec = (minute) => startSec + minute * MINUTE;
    const stepped = uPlot.paths.stepped({ align: 1 });
    const perTask = data.perTask;
    const dpr = () => window.devicePixelRatio || 1;

    // Markers, in seconds.
    const violations = data.markers.violations.map((v) => ({ policy: v.policy, from: minSec(v.from), to: minSec(v.to) }));
    const emergencies = data.markers.emergencies.map((e) => ({ policy: e.policy, at: minSec(e.at), label: e.label }));
    const events = data.markers.events.map((e) => ({ from: minSec(e.from), to: minSec(e.to), label: e.label }));
    const colorOf = {};
    for (const p of data.policies) colorOf[p.name] = p.color;
    const lanePolicies = data.policies.map((p) => p.name).filter((name) => violations.some((v) => v.policy === name));

    let syncing = false;
    function setX(min, max) {
      const lo = Math.max(startSec, Math.min(min, max));
      const hi = Math.min(endSec, Math.max(min, max));
      syncing = true;
      try {
        for (const c of charts) if (c.scales.x.min !== lo || c.scales.x.max !== hi) c.setScale('x', { min: lo, max: hi });
      } finally {
        syncing = false;
      }
      showRange(lo, hi);
    }
    const rangeEl = document.getElementById('range');
    function showRange(lo, hi) {
      if (rangeEl) rangeEl.textContent = `Showing ${formatUtc(lo)} – ${formatUtc(hi)} (${formatDuration(hi - lo)}).`;
    }

    /** Drag selects a range to zoom into (uPlot); the wheel zooms about the cursor; shift+wheel pans. */
    function wheelZoom() {
      return {
        hooks: {
          ready: (u) => {
            u.over.addEventListener(
              'wheel',
              (e) => {
                e.preventDefault();
                const min = u.scales.x.min;
                const max = u.scales.x.max;
                const range = max - min;
                const full = endSec - startSec;
                const pan = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
                if (pan) {
                  const delta = Math.sign(e.deltaX || e.deltaY) * range * 0.15;
                  const lo = Math.min(Math.max(startSec, min + delta), endSec - range);
                  setX(lo, lo + range);
                  return;
                }
                const rect = u.over.getBoundingClientRect();
                const at = u.posToVal(e.clientX - rect.left, 'x');
                const next = Math.min(full, Math.max(10 * MINUTE, range * (e.deltaY < 0 ? 0.75 : 1 / 0.75)));
                let lo = at - ((at - min) * next) / range;
                lo = Math.min(Math.max(startSec, lo), endSec - next);
                setX(lo, lo + next);
              },
              { passive: false },
            );
          },
        },
      };
    }

    /**
     * Each policy's violation minutes as runs of canvas pixel columns: the union per
     * policy, so thousands of short ranges on a long trace neither stack their
     * shading nor vanish (a run is at least one device pixel wide).
     */
    function violationRuns(u) {
      const { left, width } = u.bbox;
      const x0 = u.scales.x.min;
      const x1 = u.scales.x.max;
      const runs = {};
      for (const name of lanePolicies) {
        const cols = new Uint8Array(Math.ceil(width) + 1);
        for (const v of violations) {
          if (v.policy !== name || v.to < x0 || v.from > x1) continue;
          const a = Math.max(0, Math.floor(u.valToPos(v.from, 'x', true) - left));
          const b = Math.min(cols.length, Math.max(a + 1, Math.ceil(u.valToPos(v.to, 'x', true) - left)));
          cols.fill(1, a, b);
        }
        const list = [];
        for (let i = 0; i < cols.length; i++) {
          if (!cols[i]) continue;
          let j = i;
          while (j < cols.length && cols[j]) j++;
          list.push([left + i, j - i]);
          i = j;
        }
        runs[name] = list;
      }
      return runs;
    }

    /** A band over the plot's full height; at least one device pixel wide. */
    function band(u, from, to, fill) {
      const { left, top, width, height } = u.bbox;
      const a = u.valToPos(from, 'x', true);
      const b = u.valToPos(to, 'x', true);
      if (b < left || a > left + width) return;
      u.ctx.fillStyle = fill;
      u.ctx.fillRect(a, top, Math.max(dpr(), b - a), height);
    }

    function clipToPlot(u) {
      const { left, top, width, height } = u.bbox;
      u.ctx.save();
      u.ctx.beginPath();
      u.ctx.rect(left, top, width, height);
      u.ctx.clip();
    }

    /**
     * Under the series: planned events (grey, dashed edges) and, where a run of
     * violation minutes is at least 3 px wide, a faint band in the policy's colour.
     */
    function drawUnder(u) {
      const { ctx } = u;
      const { top, height, left, width } = u.bbox;
      const r = dpr();
      clipToPlot(u);
      for (const e of events) band(u, e.from, e.to, 'rgba(120,120,120,0.14)');
      const runs = violationRuns(u);
      for (const name of lanePolicies) {
        ctx.fillStyle = rgba(colorOf[name], 0.08);
        for (const [x, w] of runs[name]) if (w >= 3 * r) ctx.fillRect(x, top, w, height);
      }
      // Event edges: dashed grey lines, so an event never reads as overlapping violation bands.
      ctx.strokeStyle = 'rgba(80,80,80,0.8)';
      ctx.lineWidth = r;
      ctx.setLineDash([4 * r, 3 * r]);
      for (const e of events) {
        for (const t of [e.from, e.to]) {
          const x = Math.round(u.valToPos(t, 'x', true)) + 0.5;
          if (x < left || x > left + width) continue;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
        }
      }
      ctx.setLineDash([]);
      ctx.restore();
    }

    /** Over the series: a lane per policy along the top with its violation minutes, emergencies, event names. */
    function drawOver(u) {
      const { ctx } = u;
      const { left, top, width, height } = u.bbox;
      const r = dpr();
      clipToPlot(u);
      const laneH = 5 * r;
      const runs = violationRuns(u);
      lanePolicies.forEach((name, i) => {
        ctx.fillStyle = rgba(colorOf[name], 0.6);
        for (const [x, w] of runs[name]) ctx.fillRect(x, top + i * (laneH + r), w, laneH);
      });
      ctx.font = `${Math.round(11 * r)}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      const labelTop = top + lanePolicies.length * (laneH + r) + 3 * r;
      for (const e of events) {
        const x0 = u.valToPos(e.from, 'x', true);
        const x1 = u.valToPos(e.to, 'x', true);
        if (x1 < left || x0 > left + width || !e.label) continue;
        ctx.fillStyle = '#444444';
        ctx.fillText(e.label, Math.max(left, x0) + 3 * r, labelTop);
      }
      for (const e of emergencies) {
        const x = Math.round(u.valToPos(e.at, 'x', true)) + 0.5;
        if (x < left || x > left + width) continue;
        const color = colorOf[e.policy] || '#000000';
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5 * r;
        ctx.setLineDash([]); // uPlot leaves the last series' dash pattern set
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        // A downward triangle at the top marks it as an event, not a series.
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.moveTo(x - 5 * r, top);
        ctx.lineTo(x + 5 * r, top);
        ctx.lineTo(x, top + 8 * r);
        ctx.closePath();
        ctx.fill();
      }
      ctx.restore();
    }

    const xAxis = {
      label: 'time (UTC)',
      labelSize: 20,
      size: 54,
      space: 90,
      splits: (u, _i, min, max) => timeTicks(min, max, Math.max(2, Math.floor(u.bbox.width / dpr() / 95))).ticks,
      values: (u, splits) => {
        const min = u.scales.x.min;
        const max = u.scales.x.max;
        return timeLabels(splits, timeTicks(min, max, Math.max(2, Math.floor(u.bbox.width / dpr() / 95))).step);
      },
    };
    const yCount = (u) => Math.max(2, Math.floor(u.bbox.height / dpr() / 45));
    const yAxis = (scale, label, side, integer, grid) => ({
      scale,
      label,
      side,
      size: 72,
      labelSize: 20,
      grid: { show: grid, stroke: '#e6e6e6', width: 1 },
      splits: (u, _i, min, max) => niceTicks(min, max, yCount(u), integer),
      values: (_u, ticks) => tickLabels(ticks),
    });
    const yRange = (u, _min, max) => niceRange(max, yCount(u));
    const timeSeries = {
      label: 'time (UTC)',
      value: (_u, v) => (v == null ? '–' : data.bucketMinutes > 1 ? `${formatUtc(v)} (max of ${data.bucketMinutes} min)` : formatUtc(v)),
    };

    const common = (height) => ({
      width: 800,
      height,
      cursor: { drag: { x: true, y: false, setScale: true }, sync: { key: 'mlscale' } },
      legend: { live: true },
      plugins: [wheelZoom()],
      hooks: {
        drawClear: [drawUnder],
        draw: [drawOver],
        setScale: [
          (u, key) => {
            if (key === 'x' && !syncing && charts.includes(u)) setX(u.scales.x.min, u.scales.x.max);
          },
        ],
      },
    });

    // Chart 1: load (req/s, left) and ready tasks per policy (right). With req/s per task known, the
    // task axis is the load axis divided by it, so a task line level with the load line means capacity = load.
    const capScale = perTask ? 'rps' : 'tasks';
    const k = perTask || 1;
    const taskValue = (_u, v) => (v == null ? '–' : `${formatNumber(v / k)} tasks`);
    const capacity = {
      ...common(380),
      scales: {
        x: { time: true },
        rps: { range: yRange },
        tasks: perTask ? { from: 'rps', range: (_u, min, max) => [min / perTask, max / perTask] } : { range: yRange },
      },
      axes: [xAxis, yAxis('rps', 'load (req/s)', 3, false, true), yAxis('tasks', 'ready tasks', 1, true, false)],
      series: [
        timeSeries,
        { label: 'load', scale: 'rps', stroke: '#222222', width: 1.25, fill: 'rgba(0,0,0,0.07)', paths: stepped, value: (_u, v) => (v == null ? '–' : `${formatNumber(v)} req/s`) },
        ...data.policies.map((p) => ({ label: `${p.name} ready`, scale: capScale, stroke: p.color, width: p.width, dash: p.dash, paths: stepped, value: taskValue })),
        ...data.policies.map((p) => ({ label: `${p.name} paid`, show: false, scale: capScale, stroke: rgba(p.color, 0.6), width: 1, dash: [1, 2], paths: stepped, value: taskValue })),
      ],
    };
    const capacityData = [xs, withEnd(data.load, 1), ...data.policies.map((p) => withEnd(p.ready, k)), ...data.policies.map((p) => withEnd(p.tasks, k))];

    const backlog = {
      ...common(260),
      scales: { x: { time: true }, req: { range: yRange } },
      // A blank right axis as wide as the task axis above: the two plots line up minute for minute.
      axes: [xAxis, yAxis('req', 'backlog (requests)', 3, true, true), { scale: 'req', side: 1, size: 92, grid: { show: false }, ticks: { show: false }, values: (_u, ticks) => ticks.map(() => '') }],
      series: [
        timeSeries,
        ...data.policies.map((p) => ({ label: `${p.name} backlog`, scale: 'req', stroke: p.color, width: p.width, dash: p.dash, paths: stepped, value: (_u, v) => (v == null ? '–' : formatNumber(v, 0)) })),
      ],
    };
    const backlogData = [xs, ...data.policies.map((p) => withEnd(p.backlog, 1))];

    const targets = [document.getElementById('chart-capacity'), document.getElementById('chart-backlog')];
    const widthOf = (el) => Math.max(320, Math.floor(el.getBoundingClientRect().width));
    [
      [capacity, capacityData],
      [backlog, backlogData],
    ].forEach(([opts, d], i) => {
      const el = targets[i];
      opts.width = widthOf(el);
      charts.push(new uPlot(opts, d, el));
    });
    showRange(startSec, endSec);

    window.addEventListener('resize', () => {
      charts.forEach((c, i) => c.setSize({ width: widthOf(targets[i]), height: c.height }));
    });
    const button = (id, fn) => {
      const el = document.getElementById(id);
      if (el) el.addEventListener('click', fn);
    };
    const cur = () => [charts[0].scales.x.min, charts[0].scales.x.max];
    button('zoom-reset', () => setX(startSec, endSec));
    button('zoom-out', () => {
      const [lo, hi] = cur();
      const mid = (lo + hi) / 2;
      const half = Math.min(endSec - startSec, (hi - lo) * 2) / 2;
      const a = Math.max(startSec, Math.min(mid - half, endSec - 2 * half));
      setX(a, a + 2 * half);
    });
    const pan = (dir) => () => {
      const [lo, hi] = cur();
      const w = hi - lo;
      const a = Math.min(Math.max(startSec, lo + dir * w * 0.5), endSec - w);
      setX(a, a + w);
    };
    button('pan-left', pan(-1));
    button('pan-right', pan(1));
    // Marker list entries zoom to the marker with some context either side.
    document.querySelectorAll('[data-zoom]').forEach((el) => {
      el.addEventListener('click', () => {
        const [from, to] = el.getAttribute('data-zoom').split(',').map(Number);
        const a = minSec(from);
        const b = minSec(to);
        const ctx = Math.max(30 * MINUTE, (b - a) * 2);
        setX(a - ctx, b + ctx);
        charts[0].root.scrollIntoView({ block: 'start' });
      });
    });
    return charts;
  }

  return { formatNumber, niceStep, niceTicks, niceRange, tickLabels, timeTicks, timeLabels, formatUtc, formatDuration, mount };
})();

import { readMetrics, type MetricRead } from '../aws/metrics';
import type { BacklogObservation } from '../core/drain';
import { isScaleToZero, type TargetSpec } from '../core/config/document';
import { lookbackMinutes, workState, type Observation, type WorkState } from '../core/work';

/**
 * The metrics a reconcile pass decides on, read for many targets in as few
 * GetMetricData calls as the API allows: scale-to-zero targets' work (and in
 * flight, GPU utilisation), and drain-sized targets' backlog and throughput.
 */
export interface Signals {
  readonly work: Map<string, WorkState>;
  /** Per drain-sized target: the backlog observation, or why there is none. */
  readonly backlog: Map<string, BacklogObservation | { readonly unreadable: string }>;
  readonly calls: number;
}

const MINUTE = 60_000;
/** Minutes of backlog history read: enough for two datapoints through CloudWatch's publishing delay. */
const BACKLOG_MINUTES = 5;

/** Newest point and the one a minute before it; the throughput of the newest minute. */
function backlogOf(backlog: Observation | undefined, processed: Observation | undefined): BacklogObservation | { unreadable: string } {
  if (!backlog || backlog.error) return { unreadable: `backlog metric ${backlog?.error ?? 'not read'}` };
  if (processed?.error) return { unreadable: `throughput metric ${processed.error}` };
  const points = [...backlog.points].sort((a, b) => a.t - b.t);
  const newest = points.at(-1);
  if (!newest) return { unreadable: 'backlog metric has no datapoints' };
  const previous = points.find((p) => p.t === newest.t - MINUTE);
  const served = (processed?.points ?? []).find((p) => p.t === newest.t) ?? (processed?.points ?? []).at(-1);
  return { backlog: newest.v, ...(previous ? { previousBacklog: previous.v } : {}), processedPerSecond: (served?.v ?? 0) / 60 };
}

export async function readSignals(specs: readonly TargetSpec[], now: Date): Promise<Signals> {
  const toZero = specs.filter(isScaleToZero);
  const drained = specs.filter((t) => t.drain);
  if (toZero.length === 0 && drained.length === 0) return { work: new Map(), backlog: new Map(), calls: 0 };
  const lookback = Math.max(BACKLOG_MINUTES, ...toZero.map((t) => lookbackMinutes(t)));
  const end = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE + MINUTE);
  const window = { start: new Date(end.getTime() - (lookback + 1) * MINUTE), end, periodSeconds: 60 };
  const reads: MetricRead[] = [
    ...toZero.flatMap((t) => [
      { key: `${t.name}#work`, metric: t.work! },
      ...(t.inFlight ? [{ key: `${t.name}#inFlight`, metric: t.inFlight }] : []),
      ...(t.gpuUtilization ? [{ key: `${t.name}#gpu`, metric: t.gpuUtilization }] : []),
    ]),
    ...drained.flatMap((t) => [
      { key: `${t.name}#backlog`, metric: t.drain!.backlog },
      { key: `${t.name}#processed`, metric: t.drain!.processed },
    ]),
  ];
  const { observations, calls } = await readMetrics(reads, window);
  const get = (t: TargetSpec, k: string) => observations.get(`${t.name}#${k}`);
  const work = new Map<string, WorkState>();
  for (const t of toZero) {
    work.set(
      t.name,
      workState(
        { work: get(t, 'work') ?? { points: [], error: 'not read' }, ...(t.inFlight ? { inFlight: get(t, 'inFlight')! } : {}), ...(t.gpuUtilization ? { gpu: get(t, 'gpu')! } : {}) },
        { idleMinutes: t.idleMinutes, missingDataIsIdle: t.missingDataIsIdle, gpuIdlePercent: t.gpuIdlePercent },
        now.getTime(),
      ),
    );
  }
  const backlog = new Map(drained.map((t) => [t.name, backlogOf(get(t, 'backlog'), get(t, 'processed'))] as const));
  return { work, backlog, calls };
}

/** A target's backlog signal, with the tasks that were serving; undefined when unreadable or not drain-sized. */
export function signalOf(signals: Signals, target: string, running: number) {
  const o = signals.backlog.get(target);
  return o && !('unreadable' in o) ? { observation: o, ready: running } : undefined;
}

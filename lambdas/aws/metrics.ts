import {
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
  type MetricDataResult,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import type { MetricRef } from '../core/config/metric';
import type { Observation, Point } from '../core/work';
import { chunks } from '../shared/map-limit';
import { cloudwatch } from './clients/cloudwatch';
import { paginate, send } from './send';

/** GetMetricData takes at most 500 queries per call. */
export const MAX_QUERIES_PER_CALL = 500;

export interface MetricRead {
  readonly key: string;
  readonly metric: MetricRef;
}

export interface ReadWindow {
  readonly start: Date;
  readonly end: Date;
  readonly periodSeconds: number;
}

/** One GetMetricData query of `metric` at `periodSeconds` (shared with utilization.ts). */
export function query(id: string, metric: MetricRef, periodSeconds: number): MetricDataQuery {
  return {
    Id: id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: periodSeconds,
      Stat: metric.statistic,
    },
  };
}

/**
 * Every result of one GetMetricData request, NextToken followed (oldest
 * datapoints first). `onCall` counts each call made, a failed one too. A
 * failed call throws.
 */
export async function getMetricData(queries: MetricDataQuery[], start: Date, end: Date, onCall: () => void = () => {}): Promise<MetricDataResult[]> {
  const pages = await paginate(
    (NextToken) => {
      onCall();
      return send<GetMetricDataCommandOutput>(
        cloudwatch,
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampAscending', NextToken }),
      );
    },
    (page) => page.NextToken,
  );
  return pages.flatMap((p) => p.MetricDataResults ?? []);
}

/**
 * Read many metrics over one window with as few calls as the API allows:
 * 500 queries per call, following NextToken. A call that fails (after
 * retries) marks only its own queries unreadable; the others still come back.
 */
export async function readMetrics(reads: readonly MetricRead[], window: ReadWindow): Promise<{ observations: Map<string, Observation>; calls: number }> {
  const observations = new Map<string, Observation>();
  let calls = 0;
  for (const batch of chunks(reads, MAX_QUERIES_PER_CALL)) {
    const ids = new Map(batch.map((r, i) => [`m${i}`, r.key]));
    const points = new Map<string, Point[]>(batch.map((r) => [r.key, []]));
    const errors = new Map<string, string>();
    try {
      const results = await getMetricData(
        batch.map((r, i) => query(`m${i}`, r.metric, window.periodSeconds)),
        window.start,
        window.end,
        () => calls++,
      );
      for (const result of results) {
        const key = ids.get(result.Id ?? '');
        if (key === undefined) continue;
        if (result.StatusCode === 'InternalError' || result.StatusCode === 'Forbidden') {
          errors.set(key, `${result.StatusCode}${result.Messages?.length ? `: ${result.Messages.map((m) => m.Value).join('; ')}` : ''}`);
        }
        const ts = result.Timestamps ?? [];
        const vs = result.Values ?? [];
        ts.forEach((t, i) => points.get(key)!.push({ t: new Date(t).getTime(), v: vs[i] ?? 0 }));
      }
    } catch (err) {
      for (const r of batch) errors.set(r.key, `${(err as Error).name}: ${(err as Error).message}`);
    }
    for (const r of batch) {
      const error = errors.get(r.key);
      observations.set(r.key, error ? { points: [], error } : { points: points.get(r.key)! });
    }
  }
  return { observations, calls };
}

export interface Datum {
  readonly name: string;
  readonly dimensions: Record<string, string>;
  readonly at: Date;
  readonly value: number;
  readonly unit?: 'Count' | 'Count/Second' | 'None';
}

/** PutMetricData in batches of 1,000 (the API limit). */
export async function putMetrics(namespace: string, data: readonly Datum[]): Promise<void> {
  for (const batch of chunks(data, 1_000)) {
    const MetricData: MetricDatum[] = batch.map((d) => ({
      MetricName: d.name,
      Dimensions: Object.entries(d.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Timestamp: d.at,
      Value: d.value,
      Unit: d.unit ?? 'None',
    }));
    await send(cloudwatch, new PutMetricDataCommand({ Namespace: namespace, MetricData }));
  }
}

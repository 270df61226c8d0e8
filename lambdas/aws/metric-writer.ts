import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { chunks } from '../shared/map-limit';
import { clients } from './clients';
import { retrying } from './retry';

/** The namespace of the forecasts mlscale publishes (for the dashboard). */
export const FORECAST_NAMESPACE = 'mlscale/Predictive';

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
    await retrying(() => clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData })));
  }
}

import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { chunks } from '../shared/map-limit';
import { cloudwatch } from './clients/cloudwatch';
import { retrying } from './retry';

export { FORECAST_NAMESPACE } from '../core/names';

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
    await retrying(() => cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData })));
  }
}

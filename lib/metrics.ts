import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { MetricRef } from '../lambdas/core/config';

/** A config metric as a CloudWatch metric, optionally with another statistic or period. */
export function toMetric(ref: MetricRef, options: { statistic?: string; period?: Duration; label?: string } = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: ref.namespace,
    metricName: ref.metricName,
    dimensionsMap: { ...ref.dimensions },
    statistic: options.statistic ?? ref.statistic,
    period: options.period ?? Duration.minutes(1),
    ...(options.label ? { label: options.label } : {}),
  });
}

/** Container Insights task counts of one ECS service. */
export function taskCountMetric(
  which: 'RunningTaskCount' | 'DesiredTaskCount' | 'PendingTaskCount',
  clusterName: string,
  serviceName: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'ECS/ContainerInsights',
    metricName: which,
    dimensionsMap: { ClusterName: clusterName, ServiceName: serviceName },
    statistic: 'Average',
    period: Duration.minutes(1),
  });
}

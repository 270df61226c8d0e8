import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { FORECAST_NAMESPACE } from '../../lambdas/core/names';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { toMetric } from '../metrics';
import type { InferencePool } from './inference-pool';

export interface ScalingDashboardProps {
  /** Dashboard name, one per environment. */
  readonly dashboardName: string;
  readonly pools: readonly InferencePool[];
  /** Alarms shown in the alarm-state widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

const WIDTH = 24;

/**
 * One dashboard per environment: alarm states first (what is wrong now), then
 * per pool desired vs running tasks, CPU and memory, and the pool's own
 * scaling signal (Kafka lag, queue, latency).
 */
export class ScalingDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ScalingDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarm states',
        alarms: [...props.alarms],
        width: WIDTH,
        height: Math.max(3, Math.ceil(props.alarms.length / 6) + 1),
      }),
    );
    for (const p of props.pools) this.dashboard.addWidgets(...this.poolRow(p));
  }

  /** Forecast against actual load (req/s) for every pre-scaled target. */
  addForecasts(targets: readonly TargetSpec[]): void {
    const widgets = targets
      .filter((t) => t.predictive)
      .map((t) => {
        const forecast = (metricName: string, label: string) =>
          new cloudwatch.Metric({ namespace: FORECAST_NAMESPACE, metricName, dimensionsMap: { Target: t.name }, statistic: 'Maximum', period: Duration.hours(1), label });
        const actual = toMetric(t.predictive!.load, { period: Duration.minutes(5), statistic: 'Sum' });
        return new cloudwatch.GraphWidget({
          title: `${t.name}: forecast vs actual load (req/s)`,
          left: [
            new cloudwatch.MathExpression({ expression: 'requests / 300', usingMetrics: { requests: actual }, label: 'actual', period: Duration.minutes(5) }),
            forecast('ForecastLoad', 'forecast'),
          ],
          right: [forecast('ForecastReplicas', 'forecast replicas')],
          width: WIDTH / 2,
        });
      });
    if (widgets.length > 0) this.dashboard.addWidgets(...widgets);
  }

  /** The scaler Lambdas' invocations and errors. */
  addScalers(scalers: readonly { name: string; fn: lambda.IFunction }[]): void {
    if (scalers.length === 0) return;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'scalers: invocations and errors',
        left: scalers.map((s) => s.fn.metricInvocations({ period: Duration.minutes(5), label: `${s.name} invocations` })),
        right: scalers.map((s) => s.fn.metricErrors({ period: Duration.minutes(5), label: `${s.name} errors` })),
        width: WIDTH / 2,
      }),
    );
  }

  private poolRow(p: InferencePool): cloudwatch.IWidget[] {
    const { pool } = p;
    const third = WIDTH / 3;
    const signal: cloudwatch.IMetric[] = [];
    if (pool.kind === 'always-on') signal.push(toMetric(pool.metrics.consumerLag, { label: 'ConsumerLag (max)' }));
    else signal.push(toMetric(pool.metrics.queueDepth, { label: pool.kind === 'scale-to-zero' ? 'Pending work' : 'Queue depth' }));
    return [
      new cloudwatch.TextWidget({ markdown: `### ${pool.name} (${pool.kind}, ${pool.minCapacity}-${pool.maxCapacity} tasks)`, width: WIDTH, height: 1 }),
      new cloudwatch.GraphWidget({
        title: `${pool.name}: desired vs running tasks`,
        left: [p.metricDesiredTasks().with({ label: 'desired' }), p.metricRunningTasks().with({ label: 'running' })],
        leftYAxis: { min: 0 },
        width: third,
      }),
      new cloudwatch.GraphWidget({
        title: `${pool.name}: CPU and memory %`,
        left: [p.metricCpu().with({ label: 'CPU' }), p.metricMemory().with({ label: 'memory' })],
        leftYAxis: { min: 0, max: 100 },
        width: third,
      }),
      new cloudwatch.GraphWidget({
        title: `${pool.name}: scaling signal and latency`,
        left: signal,
        right: [
          toMetric(pool.metrics.latency, { statistic: 'p95', label: 'p95 ms' }),
          toMetric(pool.metrics.latency, { statistic: 'p99', label: 'p99 ms' }),
        ],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
        width: third,
      }),
    ];
  }
}

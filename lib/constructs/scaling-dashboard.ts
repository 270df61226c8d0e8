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
  /**
   * Alarms shown in the alarm-state widget at the top.
   * @default - no alarm-state widget
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

/** What a pool's row shows beside its tasks, CPU and memory. */
export interface PoolRowProps {
  /**
   * Shown in the row's heading after the pool's name, e.g. its kind.
   * @default - the capacity range only
   */
  readonly description?: string;
  /** The pool's own scaling signal (Kafka lag, queue depth, pending work), on the left axis. */
  readonly signal: readonly cloudwatch.IMetric[];
  /** The pool's latency (p95, p99), on the right axis. */
  readonly latency: readonly cloudwatch.IMetric[];
  /**
   * A batch pool's queue: its messages (visible, in flight) on the left axis and the
   * age of its oldest message, in seconds, on the right, in a widget of their own.
   * @default - no queue widget
   */
  readonly queue?: {
    readonly messages: readonly cloudwatch.IMetric[];
    readonly oldestMessageAge: readonly cloudwatch.IMetric[];
  };
}

const WIDTH = 24;

/**
 * One dashboard per environment: alarm states first (what is wrong now), then
 * a row per pool (`addPool`: desired vs running tasks, CPU and memory, the
 * pool's own scaling signal and latency), forecasts and the scalers' health.
 * Rows appear in the order they are added.
 */
export class ScalingDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ScalingDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
    });
    const alarms = props.alarms ?? [];
    if (alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarm states',
          alarms: [...alarms],
          width: WIDTH,
          height: Math.max(3, Math.ceil(alarms.length / 6) + 1),
        }),
      );
    }
  }

  /** A row for one pool: desired vs running tasks, CPU and memory, its scaling signal and latency, and its queue if it has one. */
  addPool(pool: InferencePool, props: PoolRowProps): void {
    const name = pool.serviceName;
    const third = WIDTH / (props.queue ? 4 : 3);
    const heading = `${props.description ? `${props.description}, ` : ''}${pool.minCapacity}-${pool.maxCapacity} tasks`;
    const queue = props.queue
      ? [
          new cloudwatch.GraphWidget({
            title: `${name}: queue messages and oldest message age (s)`,
            left: [...props.queue.messages],
            right: [...props.queue.oldestMessageAge],
            leftYAxis: { min: 0 },
            rightYAxis: { min: 0 },
            width: third,
          }),
        ]
      : [];
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: `### ${name} (${heading})`, width: WIDTH, height: 1 }),
      new cloudwatch.GraphWidget({
        title: `${name}: desired vs running tasks`,
        left: [pool.metricDesiredTasks().with({ label: 'desired' }), pool.metricRunningTasks().with({ label: 'running' })],
        leftYAxis: { min: 0 },
        width: third,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: CPU and memory %`,
        left: [pool.metricCpu().with({ label: 'CPU' }), pool.metricMemory().with({ label: 'memory' })],
        leftYAxis: { min: 0, max: 100 },
        width: third,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: scaling signal and latency`,
        left: [...props.signal],
        right: [...props.latency],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
        width: third,
      }),
      ...queue,
    );
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
}

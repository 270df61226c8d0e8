import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
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

  /** Adds widgets to the dashboard (later constructs add their own rows). */
  addWidgets(...widgets: cloudwatch.IWidget[]): void {
    this.dashboard.addWidgets(...widgets);
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

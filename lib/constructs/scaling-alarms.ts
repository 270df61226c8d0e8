import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmName } from '../../lambdas/core/names';
import { alarmSpecsForPool, type AlarmSpec } from '../../lambdas/core/config/alarm-specs';
import type { AlarmKind, ResolvedPool, Thresholds } from '../../lambdas/core/config';
import { taskCountMetric, toMetric } from '../metrics';

export interface ScalingAlarmsProps {
  /** Prefix of every alarm name: `<prefix>-<pool>-<kind>`. */
  readonly namePrefix: string;
  /** ECS cluster the pools run in (for the per-service metrics). */
  readonly clusterName: string;
  readonly pools: readonly ResolvedPool[];
  readonly thresholds: Thresholds;
  /** Topic every alarm notifies. */
  readonly topic: sns.ITopic;
  /**
   * Alarm kinds that declare an emergency for pools with emergency enabled.
   * @default ['emergencyLatency']
   */
  readonly emergencyKinds?: readonly AlarmKind[];
}

export interface PoolAlarm {
  readonly pool: ResolvedPool;
  readonly spec: AlarmSpec;
  readonly alarm: cloudwatch.Alarm;
  readonly emergency: boolean;
}

const MISSING: Record<AlarmSpec['treatMissingData'], cloudwatch.TreatMissingData> = {
  missing: cloudwatch.TreatMissingData.MISSING,
  notBreaching: cloudwatch.TreatMissingData.NOT_BREACHING,
  breaching: cloudwatch.TreatMissingData.BREACHING,
  ignore: cloudwatch.TreatMissingData.IGNORE,
};

const COMPARISON: Record<AlarmSpec['comparison'], cloudwatch.ComparisonOperator> = {
  GreaterThanThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  LessThanThreshold: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
};

export { alarmName } from '../../lambdas/core/names';

/**
 * The runbook alarms of every pool (rules in lambdas/core/config/alarm-specs.ts),
 * each notifying the operators' topic.
 */
export class ScalingAlarms extends Construct {
  public readonly alarms: readonly PoolAlarm[];

  constructor(scope: Construct, id: string, props: ScalingAlarmsProps) {
    super(scope, id);
    const emergencyKinds = new Set<AlarmKind>(props.emergencyKinds ?? ['emergencyLatency']);
    const action = new actions.SnsAction(props.topic);
    const alarms: PoolAlarm[] = [];

    for (const pool of props.pools) {
      for (const spec of alarmSpecsForPool(pool, props.thresholds, props.clusterName)) {
        const period = Duration.seconds(spec.periodSeconds);
        const base = toMetric(spec.metric, { period });
        const metric: cloudwatch.IMetric = spec.perTask
          ? new cloudwatch.MathExpression({
              expression: 'IF(running > 0, work / running, work)',
              usingMetrics: { work: base, running: taskCountMetric('RunningTaskCount', props.clusterName, pool.name) },
              period,
              label: `${spec.metric.metricName} per running task`,
            })
          : base;
        const emergency = pool.emergency.enabled && emergencyKinds.has(spec.kind);
        const alarm = new cloudwatch.Alarm(this, `${pool.name}-${spec.kind}`, {
          alarmName: alarmName(props.namePrefix, pool.name, spec.kind),
          alarmDescription: `${pool.name}: ${spec.rule}.${emergency ? ' Starts the emergency runbook.' : ''}`,
          metric,
          threshold: spec.threshold,
          comparisonOperator: COMPARISON[spec.comparison],
          evaluationPeriods: spec.evaluationPeriods,
          datapointsToAlarm: spec.datapointsToAlarm,
          treatMissingData: MISSING[spec.treatMissingData],
        });
        alarm.addAlarmAction(action);
        // Operators want to hear that an emergency is over, not only that it began.
        if (emergency) alarm.addOkAction(action);
        alarms.push({ pool, spec, alarm, emergency });
      }
    }
    this.alarms = alarms;
  }

  /** Alarms that declare an emergency for their pool. */
  get emergencyAlarms(): readonly PoolAlarm[] {
    return this.alarms.filter((a) => a.emergency);
  }

  /** The alarms of one pool. */
  forPool(pool: string): readonly PoolAlarm[] {
    return this.alarms.filter((a) => a.pool.name === pool);
  }
}

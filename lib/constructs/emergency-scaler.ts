import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { ScalerFunction } from './scaler-function';

export interface EmergencyScalerProps {
  /** Every managed target; the function may act on the emergency-enabled ones. */
  readonly targets: readonly TargetSpec[];
  readonly targetsJson: string;
  readonly holds: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly namePrefix: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The emergency Lambda: opens an incident as an `emergency:<incident>` hold
 * (raised floor, max as far as the raise, scale-in suspended, an end of its
 * own) and reconciles the target at once; resume releases the hold. The
 * emergency-scale-up runbook calls it.
 */
export class EmergencyScaler extends Construct {
  public readonly function: ScalerFunction;

  constructor(scope: Construct, id: string, props: EmergencyScalerProps) {
    super(scope, id);
    const targets = props.targets.filter((t) => t.emergencyEnabled);
    this.function = new ScalerFunction(this, 'Function', {
      handlerDir: 'emergency',
      targetsJson: props.targetsJson,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-emergency`,
      timeout: Duration.minutes(1),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    // It reconciles its target right after writing the hold, so the raise lands at once.
    this.function.bindReconcile(targets, props.holds);
  }
}

import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TargetsDocument } from '../../lambdas/core/config/document';
import { ScalerFunction } from './scaler-function';

export interface EmergencyScalerProps {
  /** The managed-targets document; the function may act on its emergency-enabled targets only. */
  readonly document: TargetsDocument;
  /** The holds table the document names: incidents are `emergency:<incident>` holds. */
  readonly holds: dynamodb.ITable;
  /** Operators' topic for the function's alarms. */
  readonly topic: sns.ITopic;
  /** `<pipeline>-<environment>`: prefix of alarm names. */
  readonly namePrefix: string;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
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
    const targets = props.document.targets.filter((t) => t.emergencyEnabled);
    if (targets.length === 0) throw new Error(`EmergencyScaler ${id}: no target of the document has emergencyEnabled; leave the construct out`);
    this.function = new ScalerFunction(this, 'Function', {
      handlerDir: 'emergency',
      document: props.document,
      topic: props.topic,
      alarmPrefix: `${props.namePrefix}-emergency`,
      timeout: Duration.minutes(1),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    // It reconciles its target right after writing the hold, so the raise lands at once.
    this.function.bindReconcile(targets, props.holds);
  }
}

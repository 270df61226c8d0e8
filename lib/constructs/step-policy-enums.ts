import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * The core's names for the step policies' alarm and adjustment settings
 * (lambdas/core/lag-growth.ts, lambdas/core/scale-in.ts), as the CDK enums:
 * a name the map does not know fails to compile. Shared by
 * LagGrowthStepScaling and StepScaleIn.
 */
export const COMPARISON = { GreaterThanOrEqualToThreshold: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD } as const;
export const MISSING = { notBreaching: cloudwatch.TreatMissingData.NOT_BREACHING } as const;
export const ADJUSTMENT = { ChangeInCapacity: appscaling.AdjustmentType.CHANGE_IN_CAPACITY } as const;

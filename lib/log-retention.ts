import * as logs from 'aws-cdk-lib/aws-logs';
import { DEFAULTS } from '../lambdas/core/config/defaults';

const ALLOWED = new Set<number>(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'));

/**
 * A number of days as a CloudWatch Logs retention. Only the values CloudWatch
 * accepts are allowed: a cast would let 2 through and CloudFormation would
 * reject the template at deploy time, not here.
 */
export function toRetentionDays(days: number): logs.RetentionDays {
  if (!ALLOWED.has(days)) {
    throw new Error(`logRetentionDays must be one of ${[...ALLOWED].sort((a, b) => a - b).join(', ')}, got ${days}`);
  }
  return days as logs.RetentionDays;
}

/** What every mlscale log group keeps unless told otherwise (the config's default). */
export const DEFAULT_LOG_RETENTION = toRetentionDays(DEFAULTS.logRetentionDays);

/**
 * CloudWatch alarm evaluation over simulated one-minute datapoints: M of N
 * breaching datapoints, with the alarm's treatment of missing data.
 */
import type { AlarmSpec } from '../../lambdas/core/config/alarm-specs';
import { asSeries, type SeriesLike } from './target-tracking';

export type AlarmState = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

/** State of `spec` over the `evaluationPeriods` datapoints ending at `newest`. */
export function evaluateAlarm(spec: AlarmSpec, datapoints: SeriesLike, newest: number): AlarmState {
  const series = asSeries(datapoints);
  let breaching = 0;
  let present = 0;
  for (let k = newest - spec.evaluationPeriods + 1; k <= newest; k++) {
    const v = k >= 0 ? series.get(k) : undefined;
    if (v === undefined) {
      if (spec.treatMissingData === 'breaching') breaching++;
      if (spec.treatMissingData === 'breaching' || spec.treatMissingData === 'notBreaching') present++;
      continue;
    }
    present++;
    if (spec.comparison === 'GreaterThanThreshold' ? v > spec.threshold : v < spec.threshold) breaching++;
  }
  if (breaching >= spec.datapointsToAlarm) return 'ALARM';
  return present === 0 ? 'INSUFFICIENT_DATA' : 'OK';
}

import type { Comparison } from '../sim/compare';
import type { PolicyName } from '../sim/simulate';
import { renderTable } from './output';

/**
 * `mlscale simulate`'s table: one row per policy, single-word headers, left-aligned like every CLI table.
 * FLAPS: the most reversals of desired capacity in any rolling hour. A batch pool adds the oldest
 * message's largest age and the minutes its oldestMessageAge alarm would be in ALARM.
 */
export function simulationTable(c: Comparison, policies: readonly PolicyName[], wide = false): string {
  const batch = c.pool.kind === 'batch';
  const tt = c.policies['target-tracking'];
  return renderTable(
    [
      'POLICY',
      'TASK_MIN',
      'X_ORACLE',
      'COST_USD',
      'VIOLATION_MIN',
      'VIOLATION_PCT',
      'PEAK_BACKLOG',
      'SCALE_ACTIONS',
      'COLD_STARTS',
      'EMERGENCIES',
      'FLAPS',
      ...(batch ? ['MAX_AGE_S', 'AGE_ALARM_MIN'] : []),
      // -o wide: task-minutes against target tracking's, tasks started, hours over the flapping limit, forecasts acted on.
      ...(wide ? ['X_TT', 'TASKS_LAUNCHED', 'FLAPPING_HOURS', 'FORECASTS_ACTED'] : []),
    ],
    policies.map((p) => {
      const r = c.policies[p];
      return [
        p,
        r.taskMinutes,
        r.vsOracle.taskMinutes.toFixed(2),
        r.costUsd.toFixed(2),
        r.violationMinutes,
        r.violationPercent.toFixed(2),
        r.peakBacklog,
        r.scaleActions,
        r.coldStarts,
        r.emergencies,
        r.flaps,
        ...(batch ? [r.peakMessageAgeSeconds ?? 0, r.messageAgeAlarmMinutes ?? 0] : []),
        ...(wide
          ? [
              tt && policies.includes('target-tracking') ? (r.taskMinutes / Math.max(1, tt.taskMinutes)).toFixed(3) : '-',
              r.tasksLaunched,
              r.flappingHours,
              p === 'mlscale' && c.forecast && c.forecast.runs > 0 ? `${c.forecast.runs - c.forecast.noForecast - c.forecast.untrusted}/${c.forecast.runs}` : '-',
            ]
          : []),
      ];
    }),
  );
}

import type { Comparison } from '../sim/compare';
import type { PolicyName } from '../sim/simulate';
import { renderTable } from './output';

/** `mlscale simulate`'s table: one row per policy, single-word headers, left-aligned like every CLI table. */
export function simulationTable(c: Comparison, policies: readonly PolicyName[]): string {
  return renderTable(
    ['POLICY', 'TASK_MIN', 'X_ORACLE', 'COST_USD', 'VIOLATION_MIN', 'VIOLATION_PCT', 'PEAK_BACKLOG', 'SCALE_ACTIONS', 'COLD_STARTS', 'EMERGENCIES'],
    policies.map((p) => {
      const r = c.policies[p];
      return [p, r.taskMinutes, r.vsOracle.taskMinutes.toFixed(2), r.costUsd.toFixed(2), r.violationMinutes, r.violationPercent.toFixed(2), r.peakBacklog, r.scaleActions, r.coldStarts, r.emergencies];
    }),
  );
}

import { NOT_SUSPENDED, type IncidentRecord } from '../core/emergency';
import type { TargetSpec } from '../core/targets';
import type { IncidentStore } from './incident-store';
import type { ScalableTarget } from './target-types';

/**
 * The fallback when no incident table is configured (MLSCALE_INCIDENT_TABLE
 * unset, e.g. the handler run by hand): the target itself says whether an
 * incident is open — scale-in and scheduled scaling suspended, scale-out not (ECS), or a
 * minimum above the configured one (node group) — and resume restores the
 * configured limits. Repeated triggers still double once; concurrent ones
 * are not guarded, which is why the deployed stack always has the table.
 */
export class TargetIncidentStore implements IncidentStore {
  readonly atomic = false;

  constructor(
    private readonly spec: TargetSpec,
    private readonly target: ScalableTarget,
  ) {}

  async current(name: string): Promise<IncidentRecord | undefined> {
    const state = await this.target.read();
    // The emergency procedure's own pattern: scale-in and scheduled scaling suspended, scale-out not.
    // An operator's plain scale-in suspension or a full pause does not read as an incident.
    const s = state.suspension;
    const open = this.spec.kind === 'ecs-service' ? s.dynamicIn && s.scheduled && !s.dynamicOut : state.min > this.spec.minCapacity;
    if (!open) return undefined;
    return {
      target: name,
      incidentId: `${name}-open`,
      status: 'open',
      openedAt: 'unknown',
      trigger: 'unknown (no incident table)',
      before: { desired: state.desired, min: this.spec.minCapacity, max: this.spec.maxCapacity, suspension: NOT_SUSPENDED },
    };
  }

  async claim(): Promise<boolean> {
    return true;
  }

  async open(): Promise<void> {
    // Nothing recorded: the target's own state is the record.
  }

  async settle(): Promise<void> {
    // Nothing recorded: the target's own state is the record.
  }
}

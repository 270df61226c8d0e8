import { formatDuration, holderKind, isActive, type Hold } from '../../lambdas/core/holds';
import { scheduleHolds } from '../../lambdas/core/schedules';
import type { TargetSpec } from '../../lambdas/core/config/document';
import { isoSeconds } from './output';

/** How far ahead `holds` and `describe` show the config's planned windows. */
export const LOOKAHEAD_MS = 24 * 3_600_000;

export type HoldSource = 'table' | 'config';

export interface HoldView {
  readonly hold: Hold;
  /** `table`: written by an actor (DynamoDB); `config`: a planned event or peak hours window the reconciler derives. */
  readonly source: HoldSource;
  readonly state: 'active' | 'upcoming' | 'expired';
}

/**
 * The holds the config's schedules imply, open now or starting within
 * `lookaheadMs`: what lambdas/reconcile/run.ts `derivedHolds` gives for now,
 * with the same reference for multiplier events (the configured minimum or
 * an active forecast floor).
 */
export function configHolds(spec: TargetSpec, stored: readonly Hold[], nowMs: number, lookaheadMs = LOOKAHEAD_MS): Hold[] {
  if (spec.plannedEvents.length === 0 && spec.peakHours.length === 0) return [];
  const forecast = Math.max(0, ...stored.filter((h) => holderKind(h.holder) === 'predictive' && isActive(h, nowMs)).map((h) => h.floor ?? 0));
  return scheduleHolds(spec, nowMs, Math.max(spec.minCapacity, forecast), lookaheadMs);
}

export function stateOf(hold: Hold, nowMs: number): HoldView['state'] {
  if (isActive(hold, nowMs)) return 'active';
  return hold.expiresAt <= nowMs / 1000 ? 'expired' : 'upcoming';
}

/** A target's holds, stored and from the config: active first, then upcoming, then (with `all`) expired. */
export function holdViews(spec: TargetSpec | undefined, stored: readonly Hold[], nowMs: number, all = false): HoldView[] {
  const order = { active: 0, upcoming: 1, expired: 2 } as const;
  const views: HoldView[] = [
    ...stored.map((hold) => ({ hold, source: 'table' as const, state: stateOf(hold, nowMs) })),
    ...(spec ? configHolds(spec, stored, nowMs) : []).map((hold) => ({ hold, source: 'config' as const, state: stateOf(hold, nowMs) })),
  ];
  return views
    .filter((v) => all || v.state !== 'expired')
    .sort(
      (a, b) =>
        order[a.state] - order[b.state] ||
        (a.hold.startsAt ?? a.hold.createdAt) - (b.hold.startsAt ?? b.hold.createdAt) ||
        a.hold.holder.localeCompare(b.hold.holder),
    );
}

/** `in,out,scheduled`, `in`, or `-`. */
export function suspends(h: Hold): string {
  const parts = [h.suspendScaleIn ? 'in' : '', h.suspendScaleOut ? 'out' : '', h.suspendScheduled ? 'scheduled' : ''].filter(Boolean);
  return parts.length ? parts.join(',') : '-';
}

/** Time left until `epochSeconds`, `59m`, `1d2h`; `expired` once past. */
export const remaining = (epochSeconds: number, nowMs: number) => {
  const left = epochSeconds - Math.floor(nowMs / 1000);
  return left > 0 ? formatDuration(left) : 'expired';
};

/** `2026-12-02T11:00:00Z(59m)`: one token, so tables stay awk-friendly. */
export const expiresCell = (h: Hold, nowMs: number) => `${isoSeconds(h.expiresAt)}(${remaining(h.expiresAt, nowMs)})`;

/** What a hold asks, in words: `floor 6, ceiling 12, suspends in,out,scheduled`. */
export function sets(h: Hold): string {
  const parts = [
    h.floor !== undefined ? `floor ${h.floor}` : '',
    h.ceiling !== undefined ? `ceiling ${h.ceiling}` : '',
    suspends(h) !== '-' ? `suspends ${suspends(h)}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'nothing';
}

/** The REASON column: `(config)` for derived holds, the start of one not yet in force, `(expired)`. */
export function reasonCell(v: HoldView, nowMs: number): string {
  const start = v.hold.startsAt ?? v.hold.createdAt;
  return [
    v.source === 'config' ? '(config)' : '',
    v.state === 'upcoming' ? `(starts ${isoSeconds(start)}, in ${remaining(start, nowMs)})` : '',
    v.state === 'expired' ? '(expired)' : '',
    v.hold.reason,
  ]
    .filter(Boolean)
    .join(' ');
}

/** A hold as a document (`-o json|yaml`): times as ISO strings, with where it comes from and whether it is in force. */
export function holdDocument(v: HoldView, nowMs: number) {
  const h = v.hold;
  return {
    target: h.target,
    holder: h.holder,
    source: v.source,
    state: v.state,
    floor: h.floor ?? null,
    ceiling: h.ceiling ?? null,
    suspends: { scaleIn: Boolean(h.suspendScaleIn), scaleOut: Boolean(h.suspendScaleOut), scheduled: Boolean(h.suspendScheduled) },
    reason: h.reason,
    createdAt: isoSeconds(h.createdAt),
    startsAt: isoSeconds(h.startsAt ?? h.createdAt),
    expiresAt: isoSeconds(h.expiresAt),
    remainingSeconds: Math.max(0, h.expiresAt - Math.floor(nowMs / 1000)),
  };
}

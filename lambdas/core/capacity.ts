/** Capacity arithmetic shared by the Lambdas, the CLI and the simulator. */

/** Replicas for a load: ceil(load / perReplica × (1 + headroom)). */
export function replicasFor(load: number, perReplica: number, headroom = 0): number {
  if (!(perReplica > 0)) throw new Error(`load per replica must be > 0, got ${perReplica}`);
  if (!(load > 0)) return 0;
  // Round away float noise first (e.g. 100 × 1.1 = 110.00000000000001 must stay 110).
  return Math.ceil(Number(((load / perReplica) * (1 + headroom)).toFixed(9)));
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

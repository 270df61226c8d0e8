/**
 * Pools that go to zero: scale-to-zero and batch. One rule for the config,
 * the stack, the Lambdas' document, the CLI and the simulator; a type guard,
 * so the kind-specific fields (idleMinutes, compute, queue) come with it.
 */
export function scalesToZero<P extends { readonly kind: string }>(pool: P): pool is Extract<P, { readonly kind: 'scale-to-zero' | 'batch' }> {
  return pool.kind === 'scale-to-zero' || pool.kind === 'batch';
}

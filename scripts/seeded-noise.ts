/**
 * Noise for the bundled synthetic traces: a Park-Miller LCG, so each script
 * writes the same trace on every machine. Values in [-0.5, 0.5).
 */
export function seededNoise(seed = 20260602): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647 - 0.5;
  };
}

/** Minute of the day of `h`:`m`. */
export const at = (h: number, m = 0) => h * 60 + m;

/** Minute flags to marker ranges, for the report. Pure. */

export interface MinuteRange {
  readonly from: number;
  /** Exclusive. */
  readonly to: number;
}

/** The runs of set minutes (true or non-zero), consecutive minutes merged: [0,1,1,0,1] → [{1,3},{4,5}]. */
export function violationRanges(flags: ArrayLike<boolean | number>): MinuteRange[] {
  const out: MinuteRange[] = [];
  let from = -1;
  for (let m = 0; m < flags.length; m++) {
    const on = Boolean(flags[m]);
    if (on && from < 0) from = m;
    else if (!on && from >= 0) {
      out.push({ from, to: m });
      from = -1;
    }
  }
  if (from >= 0) out.push({ from, to: flags.length });
  return out;
}

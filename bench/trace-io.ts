import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A `timestamp,value` trace (the NAB corpus format): points in epoch ms, ascending. */
export interface RawTrace {
  readonly name: string;
  readonly points: { t: number; v: number }[];
}

/** Read every CSV of a folder with `timestamp,value` rows (`YYYY-MM-DD HH:MM:SS`, UTC). */
export function readTraceFolder(folder: string): RawTrace[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => {
      const lines = readFileSync(path.join(folder, f), 'utf8').trim().split(/\r?\n/).slice(1);
      const points = lines
        .map((l) => l.split(','))
        .map(([ts, v]) => ({ t: Date.parse(`${ts!.trim().replace(' ', 'T')}Z`), v: Number(v) }))
        .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v))
        .sort((a, b) => a.t - b.t);
      return { name: f.replace(/\.csv$/, ''), points };
    });
}

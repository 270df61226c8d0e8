import { Option } from 'commander';
import { stringify } from 'yaml';

/** Every command writes through these, so tests capture process.stdout / stderr. */
export const out = (line = '') => {
  process.stdout.write(`${line}\n`);
};
export const err = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/**
 * `-o`: table (the default), wide (the table with more columns), json or yaml
 * (one document on stdout and nothing else), name (`service.mlscale/engine`
 * per line, for `xargs`).
 */
export const FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof FORMATS)[number];

export const outputOption = (formats: readonly OutputFormat[] = FORMATS) =>
  new Option('-o, --output <format>', `output format: ${formats.join(', ')}`).choices(formats).default('table');

export const isDocument = (format: string): format is 'json' | 'yaml' => format === 'json' || format === 'yaml';

/** One JSON or YAML document on stdout. */
export function printDocument(format: 'json' | 'yaml', value: unknown): void {
  if (format === 'json') out(JSON.stringify(value, null, 2));
  else process.stdout.write(stringify(value, { lineWidth: 0 }));
}

/** A table header: one UPPERCASE word, so `awk '{print $2}'` counts columns the way a reader does. */
const HEADER = /^[A-Z][A-Z0-9_]*$/;

/**
 * kubectl-style columns: left-aligned, three spaces apart, single-word
 * headers. Cells of every column but the last have no whitespace (it would
 * shift awk's fields), so any that slips in becomes `_`; the last column may
 * hold free text (a reason).
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  for (const h of headers) if (!HEADER.test(h)) throw new Error(`table header '${h}' must be one UPPERCASE word`);
  const last = headers.length - 1;
  const cells = [headers, ...rows].map((r) => r.map((c, i) => (i < last ? String(c).replace(/\s+/g, '_') || '-' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells.map((r) => r.map((c, i) => (i < last ? c.padEnd(widths[i]!) : c)).join('   ').trimEnd()).join('\n');
}

/** `2026-12-02T11:00:00Z` for epoch seconds: what tables and lines show (no milliseconds). */
export const isoSeconds = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

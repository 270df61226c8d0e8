import { Option } from 'commander';

/** Every command writes through these, so tests capture process.stdout / stderr. */
export const out = (line = '') => {
  process.stdout.write(`${line}\n`);
};
export const err = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/** `-o json`: one JSON document on stdout, nothing else there. */
export const printJson = (value: unknown) => out(JSON.stringify(value, null, 2));

export type OutputFormat = 'table' | 'json';

export const outputOption = () => new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');

/** kubectl-style columns: left-aligned, three spaces apart. */
export function renderTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('   ').trimEnd()).join('\n');
}

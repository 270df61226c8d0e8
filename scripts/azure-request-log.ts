/**
 * Turns an Azure LLM inference trace (Azure/AzurePublicDataset,
 * data/AzureLLMInferenceTrace_{code,conv}.csv, CC-BY 4.0: one row per request,
 * `TIMESTAMP,ContextTokens,GeneratedTokens`) into the request log the
 * simulator reads: the time column alone, one row per request, in order.
 * The token counts are dropped (the simulator models requests, not tokens).
 *
 * Run: npx tsx scripts/azure-request-log.ts AzureLLMInferenceTrace_code.csv traces/azure_llm_code.csv
 */
import { readFileSync, writeFileSync } from 'node:fs';

export function requestLog(csv: string, name: string): string {
  const lines = csv.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'TIMESTAMP,ContextTokens,GeneratedTokens') {
    throw new Error(`${name}: expected the header 'TIMESTAMP,ContextTokens,GeneratedTokens', got '${lines[0]?.slice(0, 80)}'`);
  }
  const out = ['timestamp'];
  lines.slice(1).forEach((line, i) => {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?),\d+,\d+$/.exec(line);
    if (!m) throw new Error(`${name}: line ${i + 2} is not 'TIMESTAMP,ContextTokens,GeneratedTokens': '${line.slice(0, 80)}'`);
    // The dataset gives no zone; the simulator reads a time without one as UTC.
    out.push(m[1]!);
  });
  return out.join('\n') + '\n';
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: npx tsx scripts/azure-request-log.ts INPUT.csv OUTPUT.csv');
    process.exit(2);
  }
  try {
    // Read and check everything before writing: a bad input leaves OUTPUT as it was.
    const log = requestLog(readFileSync(input, 'utf8'), input);
    writeFileSync(output, log);
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`);
    process.exit(1);
  }
}

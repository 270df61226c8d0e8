import { parseTargetsJson, type TargetsDocument } from '../core/targets';

let cached: { json: string | undefined; doc: TargetsDocument } | undefined;

/**
 * The managed-targets document from MLSCALE_CONFIG, parsed once per value.
 * A missing or malformed document throws a one-line ConfigError naming the
 * field, before any AWS call.
 */
export function targetsFromEnv(): TargetsDocument {
  const json = process.env.MLSCALE_CONFIG;
  if (cached && cached.json === json) return cached.doc;
  const doc = parseTargetsJson(json);
  cached = { json, doc };
  return doc;
}

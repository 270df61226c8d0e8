import { DynamoHoldStore, MemoryHoldStore, type HoldStore } from '../aws/holds-store';
import { parseTargetsJson, type TargetsDocument } from '../core/config/document';

let cached: { json: string | undefined; doc: TargetsDocument } | undefined;

/**
 * The managed-targets document from MLSCALE_CONFIG (or the copy compiled into
 * the bundle when it is too large for the environment), parsed once per value.
 * A missing or malformed document throws a one-line ConfigError naming the
 * field, before any AWS call.
 */
export function targetsFromEnv(): TargetsDocument {
  // A document too large for Lambda's 4 KB of environment is compiled into the bundle (esbuild define).
  const json = process.env.MLSCALE_CONFIG ?? process.env.MLSCALE_CONFIG_BUNDLED;
  if (cached && cached.json === json) return cached.doc;
  const doc = parseTargetsJson(json);
  cached = { json, doc };
  return doc;
}

let memory: MemoryHoldStore | undefined;

/**
 * The document's holds table, or — for a handler run by hand with a document
 * that names none — holds kept in this process (they last as long as it does).
 */
export function holdStoreFor(doc: TargetsDocument): HoldStore {
  if (doc.holdsTable) return new DynamoHoldStore(doc.holdsTable);
  memory ??= new MemoryHoldStore();
  return memory;
}

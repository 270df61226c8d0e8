import type { $ZodError } from 'zod/v4/core';

/** One problem in a config document: where it is and what is wrong. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * A config document that cannot be used. The message is one line that names
 * every bad field by its path, e.g. `pools[0].minCapacity: ...`.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const detail = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
    super(`Invalid ${source}: ${detail}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `['pools', 0, 'minCapacity']` -> `pools[0].minCapacity`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Works for errors of classic zod (the app config) and zod/mini (the targets document). */
export function problemsFromZod(error: $ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

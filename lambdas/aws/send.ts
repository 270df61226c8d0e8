import { retrying } from './retry';

/**
 * The one way mlscale calls AWS: every adapter sends through here, so retries,
 * error naming and the test harness's IAM check (test/iam) apply to every
 * call alike, from the Lambdas and from the CLI.
 */

/** Any SDK v3 client: what `send` needs of it. */
export interface AnyClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<unknown>;
  readonly config: unknown;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = { readonly input: any; readonly constructor: { readonly name: string } };

/** What a call is, in the words IAM and error messages use. */
export interface CallInfo {
  /** The client's service ID: `ECS`, `Application Auto Scaling`, `CloudWatch`, `EKS`, `DynamoDB`, `SFN`, `SNS`, `Lambda`. */
  readonly service: string;
  /** The API operation: `DescribeServices`, `RegisterScalableTarget` ... */
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * Runs before every call. The IAM contract tests install one that rejects
 * what the caller's role may not do; production never sets it.
 */
export type CallGuard = (call: CallInfo) => void | Promise<void>;

let guard: CallGuard | undefined;

/** Install (or with undefined, remove) the guard. For tests. */
export function setCallGuard(next: CallGuard | undefined): void {
  guard = next;
}

function serviceIdOf(client: AnyClient): string {
  return (client.config as { serviceId?: string }).serviceId ?? 'AWS';
}

const operationOf = (command: AnyCommand) => command.constructor.name.replace(/Command$/, '');

/**
 * An AWS call that failed after its retries: the SDK error's name (so callers
 * and retries still tell ThrottlingException from AccessDeniedException),
 * which service and operation, and the original error as `cause`.
 */
export class AwsCallError extends Error {
  readonly service: string;
  readonly operation: string;
  readonly code: string | undefined;
  readonly $metadata: { readonly httpStatusCode?: number } | undefined;
  readonly $retryable: unknown;

  constructor(call: Pick<CallInfo, 'service' | 'operation'>, cause: unknown) {
    const e = (cause ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
    super(e.message ?? String(cause), { cause });
    this.name = e.name && e.name !== 'Error' ? e.name : 'AwsCallError';
    this.service = call.service;
    this.operation = call.operation;
    this.code = e.code;
    this.$metadata = e.$metadata;
    this.$retryable = e.$retryable;
  }

  /** The client the call went through, for naming its endpoint (set by `send`). */
  client?: AnyClient;
}

/** True for an AwsCallError (or a raw SDK error) of this name. */
export function isAwsError(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

/** Send one command, retrying throttling and transient faults; failures come back as AwsCallError. */
export async function send<Output>(client: AnyClient, command: AnyCommand): Promise<Output> {
  const call: CallInfo = { service: serviceIdOf(client), operation: operationOf(command), input: command.input ?? {} };
  try {
    return await retrying(async () => {
      await guard?.(call);
      return (await client.send(command as never)) as Output;
    });
  } catch (err) {
    if (err instanceof AwsCallError) throw err;
    const typed = new AwsCallError(call, err);
    typed.client = client;
    throw typed;
  }
}

/**
 * Every page of a paginated API, following its token. `token` reads the next
 * token off a page; `withToken` puts it into the next request.
 */
export async function paginate<Page>(fetch: (token: string | undefined) => Promise<Page>, token: (page: Page) => string | undefined): Promise<Page[]> {
  const pages: Page[] = [];
  let next: string | undefined;
  do {
    const page = await fetch(next);
    pages.push(page);
    next = token(page);
  } while (next);
  return pages;
}

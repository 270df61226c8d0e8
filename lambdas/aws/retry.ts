/**
 * Retries for throttling and transient faults. The SDK's own retries are
 * middleware that mocks bypass; this policy is the one the tests exercise, and
 * the deployed Lambdas set AWS_MAX_ATTEMPTS=1 so the two do not multiply.
 */

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalServiceError',
  'InternalFailure',
  'ServerException',
  'ServerError',
  'ConcurrentUpdateException',
  'ResourceInUseException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Throttling, 5xx, 429 and connection faults are worth another try; anything else is not. */
export function isRetryable(err: unknown): boolean {
  const e = err as AwsLikeError;
  if (!e || typeof e !== 'object') return false;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return Boolean(e.$retryable);
}

export const retryPolicy = {
  attempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
};

/** Tests shorten the delays; production keeps the defaults. */
export function configureRetries(options: Partial<typeof retryPolicy>): void {
  Object.assign(retryPolicy, options);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `call`, retrying retryable failures with exponential backoff and full jitter. */
export async function retrying<T>(call: () => Promise<T>): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      attempt++;
      if (attempt >= retryPolicy.attempts || !isRetryable(err)) throw err;
      const cap = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * cap);
    }
  }
}

/**
 * Errors shaped like the ones AWS SDK v3 clients throw (name + $metadata),
 * for the handler tests. aws-sdk-client-mock bypasses the SDK's own retry
 * middleware, so what these errors exercise is lambdas/aws/retry.ts.
 */
export function awsError(name: string, httpStatusCode: number, message = `${name} (mocked)`): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

export const throttling = () => awsError('ThrottlingException', 400, 'Rate exceeded');
export const serviceUnavailable = () => awsError('ServiceUnavailableException', 503, 'Service unavailable');
export const accessDenied = () => awsError('AccessDeniedException', 403, 'User is not authorized to perform this action');
export const invalidParameter = () => awsError('InvalidParameterException', 400, 'desiredCount is invalid');

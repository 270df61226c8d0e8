// Imported first by main.ts, before any SDK client is constructed.
//
// The SDK prints a multi-line "Node 20 support ends" notice on stderr once per
// process, which would break the CLI's one-line errors (the Lambdas run Node 22
// and never see it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// lambdas/aws/retry.ts retries every call (throttling, 5xx, connection faults);
// the SDK's own retries on top would multiply the attempts (4 x 3) and the wait
// before a refused connection is reported. The Lambdas set the same.
process.env.AWS_MAX_ATTEMPTS ??= '1';

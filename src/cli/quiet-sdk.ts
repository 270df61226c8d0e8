// Imported first by main.ts, before any SDK client is constructed: the SDK prints a
// multi-line "Node 20 support ends" notice on stderr once per process, which would
// break the CLI's one-line errors. The Lambdas run Node 22 and never see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

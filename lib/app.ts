import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ParsedConfig } from '../lambdas/core/config';
import { selectEnvironment } from '../lambdas/core/config';
import { MlscaleStack } from './mlscale-stack';

export interface BuildAppOptions {
  readonly config: ParsedConfig;
  /** Only this environment; all of them when unset. */
  readonly environment?: string;
  /** The app to add the stacks to. @default - a new App built from `appProps` */
  readonly app?: App;
  readonly appProps?: AppProps;
  /** Run the cdk-nag AwsSolutions checks at synth. @default true */
  readonly nag?: boolean;
}

/** The CDK app: one stack per environment of the config, checked by cdk-nag. */
export function buildApp(options: BuildAppOptions): { app: App; stacks: MlscaleStack[] } {
  const app = options.app ?? new App(options.appProps);
  const envs = options.environment ? [selectEnvironment(options.config, options.environment)] : options.config.environments;
  const stacks = envs.map(
    (environment) =>
      new MlscaleStack(app, environment.stackName, {
        environment,
        description: `mlscale: inference scaling for ${environment.pipeline} (${environment.name})`,
        ...(environment.account || environment.region ? { env: { account: environment.account, region: environment.region } } : {}),
        tags: { 'mlscale:pipeline': environment.pipeline, 'mlscale:environment': environment.name },
      }),
  );
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stacks };
}

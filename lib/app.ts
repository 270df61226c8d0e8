import * as path from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ParsedConfig } from '../lambdas/core/config';
import { selectEnvironment } from '../lambdas/core/config';
import { loadConfigFile } from '../lambdas/core/config/load';
import { MlscaleStack } from './mlscale-stack';

export interface MlscaleAppProps extends AppProps {
  /**
   * The config to deploy, parsed (`parseConfig`, `loadConfigFile`).
   * @default - the file the `config` context names (`cdk synth -c config=path/to/mlscale.json`), else `config/mlscale.json` in the working directory
   */
  readonly config?: ParsedConfig;
  /**
   * Deploy only this environment of the config.
   * @default - the `env` context (`cdk synth -c env=staging`); every environment when that is unset too
   */
  readonly environment?: string;
  /**
   * Run the cdk-nag AwsSolutions checks at synth.
   * @default true
   */
  readonly nag?: boolean;
}

/**
 * A CDK app that deploys an mlscale config: one MlscaleStack per environment,
 * named after it, checked by cdk-nag. A bad config throws a ConfigError whose
 * one-line message names every bad field.
 */
export class MlscaleApp extends App {
  public readonly stacks: readonly MlscaleStack[];

  constructor(props: MlscaleAppProps = {}) {
    const { config, environment, nag, ...appProps } = props;
    super(appProps);
    const file = (this.node.tryGetContext('config') as string | undefined) ?? path.join('config', 'mlscale.json');
    this.stacks = addMlscaleStacks(this, {
      config: config ?? loadConfigFile(path.resolve(file), file),
      environment: environment ?? (this.node.tryGetContext('env') as string | undefined),
      nag: nag ?? true,
    });
  }
}

/** One stack per environment of the config (or only `environment`), and cdk-nag when asked. */
function addMlscaleStacks(app: App, options: { config: ParsedConfig; environment: string | undefined; nag: boolean }): MlscaleStack[] {
  const envs = options.environment ? [selectEnvironment(options.config, options.environment)] : options.config.environments;
  const stacks = envs.map((environment) => new MlscaleStack(app, environment.stackName, { environment }));
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stacks;
}

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

/**
 * MlscaleApp's stacks added to any App: for code that brings its own App or
 * props (the tests, the benchmarks). Reads no context: `environment` unset means all.
 */
export function buildApp(options: BuildAppOptions): { app: App; stacks: MlscaleStack[] } {
  const app = options.app ?? new App(options.appProps);
  return { app, stacks: addMlscaleStacks(app, { config: options.config, environment: options.environment, nag: options.nag ?? true }) };
}

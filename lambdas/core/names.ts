/** Names shared by the stacks, the Lambdas, the CLI and the simulator. */

/** Namespace of the forecasts the predictive Lambda publishes (the dashboard plots them). */
export const FORECAST_NAMESPACE = 'mlscale/Predictive';

/** Namespace of the scalers' own EMF metrics. */
export const SCALER_NAMESPACE = 'mlscale';

/** Application Auto Scaling's names for an ECS service's desired count (its IAM condition values too). */
export const ECS_SERVICE_NAMESPACE = 'ecs';
export const ECS_DIMENSION_NAME = 'ecs:service:DesiredCount';

/** The holds table of an environment: the CLI finds it from the config. */
export const holdsTableName = (pipeline: string, environment: string) => `${pipeline}-${environment}-holds`;

/** Alarm name of one pool's alarm kind (`<pipeline>-<environment>-<pool>-<kind>`); the targets document lists these per target. */
export const alarmName = (prefix: string, pool: string, kind: string) => `${prefix}-${pool}-${kind}`;

/** Names shared by the stacks, the Lambdas, the CLI and the simulator. */

/** Namespace of the forecasts the predictive Lambda publishes (the dashboard plots them). */
export const FORECAST_NAMESPACE = 'mlscale/Predictive';

/** Namespace of the scalers' own EMF metrics. */
export const SCALER_NAMESPACE = 'mlscale';

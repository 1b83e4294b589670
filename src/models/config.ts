// Checks shared by the model configs: a config that cannot describe a working model is the user's to fix.
import { UserError } from '../errors.ts';

/** A model config whose values do not fit together (or a model input that does not fit its config). */
export class ConfigError extends UserError {
  override name = 'ConfigError';
}

/** One-line config check whose message names the values. */
export function checkConfig(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new ConfigError(typeof message === 'string' ? message : message());
}

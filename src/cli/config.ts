/** The configuration for a sub-command: a bad variable is a usage error (exit 2), named by the variable. */
import { ConfigError, loadConfig, type Config } from '../config.js';
import { UsageError } from './io.js';

export function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

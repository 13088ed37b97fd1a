/**
 * `--dump-conf` for keepwatch: the resolved model as JSON.
 *
 * keepalived 2.2.7 prints auth_pass in clear text in its dumps (.data, JSON;
 * fixed in 2.4 — shared/research/keepalived-features.md §11 item 4). We never
 * do: VRRP passwords and the SSL key password are replaced by "<hidden>".
 */
import type { KeepwatchConfig } from './model';

export const HIDDEN = '<hidden>';

/** Keys whose values are secrets wherever they appear in the model. */
const SECRET_KEYS = new Set(['pass', 'password', 'authPass', 'auth_pass']);

export function redactConfig(config: KeepwatchConfig): KeepwatchConfig {
  return JSON.parse(
    JSON.stringify(config, (key, value: unknown) => (SECRET_KEYS.has(key) && typeof value === 'string' ? HIDDEN : value)),
  ) as KeepwatchConfig;
}

/** JSON text of the model (2-space indent), secrets hidden. */
export function dumpConfig(config: KeepwatchConfig): string {
  return JSON.stringify(redactConfig(config), null, 2);
}

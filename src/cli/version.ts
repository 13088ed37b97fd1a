// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string };

export const VERSION: string = pkg.version;
/** The keepalived release whose behaviour, formats and wire protocol we match. */
export const KEEPALIVED_COMPAT = '2.2.7';

export function versionBanner(): string {
  return (
    `Keepwatch v${VERSION} (keepalived v${KEEPALIVED_COMPAT} compatible)\n\n` +
    `Running on Node.js ${process.version}, ${process.platform} ${process.arch}\n\n` +
    'Config options:  LVS VRRP VRRP_AUTH VRRP_VMAC JSON SNMP_VRRP SNMP_CHECKER SNMP_RFCV2 SNMP_RFCV3 PROMETHEUS OTEL\n'
  );
}

/** Small shared bits of the observers (no heavy imports here: json/dumps/log load this). */
import type { VrrpState } from '../journal/events';

/** keepalived's numeric state encoding (include/vrrp.h: INIT 0, BACKUP 1, MASTER 2, FAULT 3; STOP 98); JSON `state`. */
export const STATE_CODE: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };
export const STATES: readonly VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];

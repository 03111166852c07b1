/** Queue names. BullMQ refuses ':' in a name, so `outbound:telegram` (contract) is `outbound-telegram` inside. */
import type { Platform } from '../core/ids.js';
import { PLATFORMS } from '../core/ids.js';

/** The one inbound queue every adapter feeds. */
export const INBOUND_QUEUE = 'inbound';

/** The BullMQ name of a platform's outbound queue. */
export function outboundQueueName(platform: Platform): string {
  return `outbound-${platform}`;
}

/** Every queue with the name the contract shows (`outbound:telegram`) and the BullMQ name. */
export function allQueues(): { display: string; name: string }[] {
  return [
    { display: INBOUND_QUEUE, name: INBOUND_QUEUE },
    ...PLATFORMS.map((p) => ({ display: `outbound:${p}`, name: outboundQueueName(p) })),
  ];
}

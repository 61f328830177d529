/** BullMQ queues, all under the `<REDIS_PREFIX>:bull` prefix. */
export const QUEUES = {
  transactional: 'transactional',
  campaigns: 'campaigns',
  deliveries: 'deliveries',
  feed: 'feed',
} as const;

export type TransactionalJob = { kind: 'confirm' | 'welcome'; subscriberId: number };

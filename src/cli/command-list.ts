import type { CommandSpec } from './command-spec';
import { ARTICLE_COMMANDS } from './commands/articles';
import { AUDIT_COMMANDS } from './commands/audit';
import { OPERATOR_COMMANDS } from './commands/operators';
import { CAMPAIGN_COMMANDS } from './commands/campaigns';
import { NEWSLETTER_COMMANDS } from './commands/newsletters';
import { OUTBOX_COMMANDS } from './commands/outbox';
import { SUBSCRIBER_COMMANDS } from './commands/subscribers';

/** Every command, in the order of the help. */
export const COMMANDS: CommandSpec<unknown>[] = [
  ...ARTICLE_COMMANDS,
  ...SUBSCRIBER_COMMANDS,
  ...NEWSLETTER_COMMANDS,
  ...CAMPAIGN_COMMANDS,
  ...OPERATOR_COMMANDS,
  ...AUDIT_COMMANDS,
  ...OUTBOX_COMMANDS,
];

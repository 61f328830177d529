import { ADMIN_AUTH, ARTICLES, CAMPAIGNS, CSRF, NEWSLETTERS, OPERATORS, SUBSCRIBERS } from '../hostile/admin-cases';
import type { HostileCase } from '../hostile/case';
import { CONSOLE_PAGES, SESSIONS } from '../hostile/console-cases';
import { IMPORT } from '../hostile/import-cases';
import { PUBLIC_PATHS, SIGNUP_FORM, SIGNUP_JSON, TOKEN_PAGES } from '../hostile/public-cases';
import { baseline, runAndCompare, type Baseline } from '../hostile/run';
import {
  WEBHOOK_GENERIC,
  WEBHOOK_MAILGUN,
  WEBHOOK_PATHS,
  WEBHOOK_POSTMARK,
  WEBHOOK_SENDGRID,
  WEBHOOK_SES,
} from '../hostile/webhook-cases';
import { buildWorld, type World } from '../hostile/world';

/**
 * Hostile input, table by table (test/hostile/*-cases.ts): each request must get its exact 4xx status and error code
 * (or the form's page), never a 5xx, within 5 s, and must leave everything the app holds as it was. The data is
 * seeded once and snapshotted key by key; every case is compared with that snapshot.
 */
let world: World;
let before: Baseline;

beforeAll(async () => {
  world = await buildWorld();
  before = await baseline(world);
}, 60_000);
afterAll(() => world?.app.stop());

const GROUPS: [string, HostileCase[]][] = [
  ['signup (JSON)', SIGNUP_JSON],
  ['signup (form)', SIGNUP_FORM],
  ['confirm, unsubscribe and preferences tokens', TOKEN_PAGES],
  ['other public paths, ops endpoints and the request line', PUBLIC_PATHS],
  ['admin API credentials and roles', ADMIN_AUTH],
  ['console calls without CSRF proof', CSRF],
  ['admin articles', ARTICLES],
  ['admin campaigns', CAMPAIGNS],
  ['admin newsletters', NEWSLETTERS],
  ['admin subscribers: listing, export, export of a person, erasure', SUBSCRIBERS],
  ['admin subscribers: import (CSV and NDJSON)', IMPORT],
  ['admin operators, tokens and the audit log', OPERATORS],
  ['console sign-in, sign-out and session', SESSIONS],
  ['console pages', CONSOLE_PAGES],
  ['webhook: generic', WEBHOOK_GENERIC],
  ['webhook: Mailgun', WEBHOOK_MAILGUN],
  ['webhook: Postmark', WEBHOOK_POSTMARK],
  ['webhook: SendGrid', WEBHOOK_SENDGRID],
  ['webhook: Amazon SES', WEBHOOK_SES],
  ['webhook paths', WEBHOOK_PATHS],
];

for (const [name, cases] of GROUPS) {
  describe(name, () => {
    test.each(cases.map((c) => [c.name, c] as const))('%s', (_title, c) => runAndCompare(c, world, before));
  });
}

test('the tables hold at least 200 cases', () => {
  expect(GROUPS.reduce((n, [, cases]) => n + cases.length, 0)).toBeGreaterThanOrEqual(200);
});

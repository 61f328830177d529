import { ConfigError, parseEnv } from '../../src/config';

/** The message parseEnv refuses `env` with, or undefined when it takes it. */
function refusal(env: Record<string, string>): string | undefined {
  try {
    parseEnv(env);
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
}

const a = 'a'.repeat(32);
const b = 'b'.repeat(40);

test('APP_SECRET_PREVIOUS takes one secret or several, comma-separated, and names itself when one is short', () => {
  expect(parseEnv({ APP_SECRET_PREVIOUS: a }).APP_SECRET_PREVIOUS).toEqual([a]);
  expect(parseEnv({ APP_SECRET_PREVIOUS: ` ${a} , ${b},` }).APP_SECRET_PREVIOUS).toEqual([a, b]);
  expect(parseEnv({ APP_SECRET_PREVIOUS: '' }).APP_SECRET_PREVIOUS).toBeUndefined();
  expect(refusal({ APP_SECRET_PREVIOUS: `${a},short` })).toMatch(/APP_SECRET_PREVIOUS.*at least 32 characters/);
});

test('ADMIN_AUTH_FAILURES_PER_IP is 20 unless set, and a positive whole number', () => {
  expect(parseEnv({}).ADMIN_AUTH_FAILURES_PER_IP).toBe(20);
  expect(parseEnv({ ADMIN_AUTH_FAILURES_PER_IP: '5' }).ADMIN_AUTH_FAILURES_PER_IP).toBe(5);
  expect(refusal({ ADMIN_AUTH_FAILURES_PER_IP: '0' })).toMatch(/ADMIN_AUTH_FAILURES_PER_IP/);
  expect(refusal({ ADMIN_AUTH_FAILURES_PER_IP: 'many' })).toMatch(/ADMIN_AUTH_FAILURES_PER_IP/);
});

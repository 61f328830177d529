/**
 * What a contract suite needs from an implementation: a fresh, empty repository, and a way to throw it away
 * (close what it opened, delete what it stored). Any implementation runs a contract by passing a factory of these.
 */
export interface RepositoryFixture<T> {
  repo: T;
  dispose(): Promise<void>;
}

/**
 * Registers beforeEach/afterEach in the calling `describe` so every test gets a fresh repository from `make`, and
 * returns a stand-in that forwards each call to the current test's repository. Tests read `repo.create(...)`.
 */
export function freshRepositoryPerTest<T extends object>(make: () => Promise<RepositoryFixture<T>>): T {
  let current: RepositoryFixture<T> | undefined;
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return new Proxy({} as T, {
    get(_, name) {
      if (!current) throw new Error('a contract repository is only there inside a test');
      const repo = current.repo;
      const member: unknown = Reflect.get(repo, name, repo);
      return typeof member === 'function' ? member.bind(repo) : member;
    },
  });
}

const START = Date.parse('2026-11-27T12:00:00.000Z');

/** An ISO 8601 UTC time `minutes` after (or before) a fixed start: every time a contract stores or compares. */
export function time(minutes: number): string {
  return new Date(START + minutes * 60_000).toISOString();
}

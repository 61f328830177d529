/** One run of the real CLI on a hostile file, and what it must end with. */
export interface CliCase {
  name: string;
  /** Files written into the case's folder before the run, by name. */
  files: Record<string, string | Buffer>;
  /** The arguments; `{dir}` is the case's folder. */
  args: string[];
  exit: number;
  stdout?: RegExp;
  stderr?: RegExp;
}

const HEADER = 'email,consentAt,consentSource,name';

export const CLI_CASES: CliCase[] = [
  {
    name: 'subscribers import: an NDJSON file of hostile rows imports none and lists each by line',
    files: {
      'rows.ndjson': [
        '{"email":["reader0@list.test"],"consentAt":"2024-01-01","consentSource":"form"}',
        '{"email":"new@list.test\\r\\nBcc: x@else.test","consentAt":"2024-01-01","consentSource":"form"}',
        '{"__proto__":{"email":"new@list.test","consentAt":"2024-01-01","consentSource":"form"}}',
        '{"email":"new@list.test","consentAt":"2024-02-30","consentSource":"form"}',
        '{"email":"new@list.test","consentAt":"2024-01-01","consentSource":"form","name":"Ja\\u0000ne"}',
        `{"email":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
        '{"email":',
      ].join('\n'),
    },
    args: ['subscribers', 'import', '{dir}/rows.ndjson'],
    exit: 0,
    stdout: /imported 0 of 7 rows[\s\S]*line 1: [\s\S]*line 2: [\s\S]*line 7: line is not valid JSON/,
  },
  {
    name: 'subscribers import: a CSV whose quoted note hides a second record imports nobody (the issue)',
    files: {
      'notes.csv': `email,consentAt,consentSource,note\r\nnew@list.test,2099-01-01,form,"Note:\nmallory@example.com,2024-01-01,form,Mallory\n"\r\n`,
    },
    args: ['subscribers', 'import', '{dir}/notes.csv'],
    exit: 0,
    stdout: /imported 0 of 1 rows[\s\S]*line 2: consentAt is in the future/,
  },
  {
    name: 'subscribers import: a semicolon-separated CSV is read by its columns (the issue)',
    files: { 'excel.csv': 'email;consentAt;consentSource;name\r\nnew@list.test;2099-01-01;form;Doe, Jane\r\n' },
    args: ['subscribers', 'import', '{dir}/excel.csv'],
    exit: 0,
    stdout: /imported 0 of 1 rows[\s\S]*line 2: consentAt is in the future/,
  },
  {
    name: 'subscribers import: a .gz file that is not gzip fails without a stack trace',
    files: { 'list.csv.gz': `${HEADER}\r\nnew@list.test,2024-01-01,form,A\r\n` },
    args: ['subscribers', 'import', '{dir}/list.csv.gz'],
    exit: 1,
    stderr: /list\.csv\.gz is not a valid gzip file/,
  },
  {
    name: 'articles add --json: wrong types, header injection and deep nesting, article by article',
    files: {
      // Written by hand: JSON.stringify itself overflows the stack on the 5,000-deep array.
      'articles.json': `[${[
        JSON.stringify({ title: ['x'], url: 'https://news.test/a' }),
        JSON.stringify({ title: 'Story\r\nBcc: victim@else.test', url: 'https://news.test/b' }),
        JSON.stringify({ title: 'Story', url: 'javascript:alert(1)' }),
        `{"title":"Story","url":"https://news.test/c","categories":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      ].join(',')}]`,
    },
    args: ['articles', 'add', '--json', '{dir}/articles.json'],
    exit: 1,
    stderr:
      /article 1 of 4: title[\s\S]*article 2 of 4: title[\s\S]*article 3 of 4: url[\s\S]*4 of 4 articles were not added/,
  },
];

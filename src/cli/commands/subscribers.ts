import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { ImportFormat } from '../../domain/subscriber-import';
import { command, str } from '../command-spec';
import { CliError, UsageError } from '../errors';
import { formatTime, keyValues, table } from '../format';
import { out, terminalWidth } from '../output';
import { PROG } from '../program';
import { AUDIENCE_COMMANDS } from './audience';
import { importFile } from './import-file';

const IMPORT_FORMATS: Record<string, ImportFormat> = { csv: 'csv', ndjson: 'ndjson', jsonl: 'ndjson' };

const subscribersImport = command<{
  file: string;
  format: ImportFormat;
  gzip: boolean;
  size?: number;
  newsletter?: string;
}>({
  group: 'subscribers',
  name: 'import',
  synopsis: '<file.csv|file.ndjson|-> [--format csv|ndjson] [--newsletter <slug>]',
  brief: '<file|-> [--format csv|ndjson] [--newsletter <slug>]',
  summary: 'Import consented subscribers from CSV or NDJSON',
  details: [
    'Each row is {email, name?, consentAt, consentSource}: people who consented elsewhere, active at once with no ' +
      'confirmation mail, in the newsletter --newsletter names (default: the default newsletter). Suppressed ' +
      '(erased, bounced) addresses and people who left are skipped, never brought back; active readers of other ' +
      'newsletters join this one. Bad rows are listed with their line numbers and the good ones kept. A CSV file ' +
      'needs a header row.',
    'The format comes from the file name (.csv, .ndjson, .jsonl, optionally .gz) or --format; "-" reads standard ' +
      'input and needs --format. Progress goes to stderr, the summary to stdout. Exits 0 once the whole file is ' +
      'read, invalid rows or not. Stopped with Ctrl-C, the rows written so far stay and a rerun skips them.',
  ],
  positionals: [{ name: 'file' }],
  options: {
    format: { type: 'string', value: 'csv|ndjson', help: 'Format of the file (default: from its extension)' },
    newsletter: { type: 'string', value: 'slug', help: 'Newsletter the rows join (default: the default newsletter)' },
  },
  examples: [
    `${PROG} subscribers import readers.csv`,
    `zcat readers.ndjson.gz | ${PROG} subscribers import - --format ndjson`,
    `${PROG} subscribers import culture-readers.csv --newsletter culture`,
  ],
  parse(values, [file]) {
    const gzip = /\.gz$/i.test(file);
    const newsletter = str(values, 'newsletter');
    const given = str(values, 'format');
    let format: ImportFormat | undefined;
    if (given !== undefined) {
      format = IMPORT_FORMATS[given.toLowerCase()];
      if (!format) throw new UsageError(`--format must be csv or ndjson, got "${given}"`, 'subscribers import');
    } else if (file === '-') {
      throw new UsageError('reading standard input needs --format csv or --format ndjson', 'subscribers import');
    } else {
      const ext = /\.([a-z0-9]+)$/i.exec(file.replace(/\.gz$/i, ''))?.[1]?.toLowerCase();
      format = ext ? IMPORT_FORMATS[ext] : undefined;
      if (!format)
        throw new UsageError(
          `cannot tell the format of "${basename(file)}" from its name: pass --format csv or --format ndjson`,
          'subscribers import',
        );
    }
    if (file === '-') return { file, format, gzip: false, newsletter };
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new CliError(`${file} is not a file`);
      size = st.size;
    } catch (e) {
      if (e instanceof CliError) throw e;
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new CliError(`cannot read ${file}: ${reason}`);
    }
    return { file, format, gzip, size, newsletter };
  },
  async run({ container, signal }, input) {
    return importFile(container, signal, input);
  },
});

const subscribersShow = command<{ email: string; json: boolean }>({
  group: 'subscribers',
  name: 'show',
  synopsis: '<email> [--json]',
  summary: 'Everything held on a subscriber, consent trail included',
  details: ['The same data as GET /api/admin/subscribers/:email (the right of access); --json prints it as that JSON.'],
  positionals: [{ name: 'email' }],
  options: { json: { type: 'boolean', help: 'Print the export as JSON' } },
  parse: (values, [email]) => ({ email, json: Boolean(values.json) }),
  async run({ container }, input) {
    const data = await container.subscriptions.export(input.email);
    if (input.json) return void out(JSON.stringify(data, null, 2));
    const { subscriber: s, consent: c, trail } = data;
    out(
      keyValues([
        ['email', s.email],
        ['name', s.name || '-'],
        ['status', s.status],
        ['id', s.id],
        ['created', formatTime(s.createdAt)],
        ['updated', formatTime(s.updatedAt)],
        ['confirmed', s.confirmedAt && formatTime(s.confirmedAt)],
        ['unsubscribed', s.unsubscribedAt && formatTime(s.unsubscribedAt)],
        ['bounced', s.bouncedAt && formatTime(s.bouncedAt)],
        [
          'consent',
          `${formatTime(c.at)}, terms ${c.termsVersion || '-'}, source ${c.source || '-'}, ip ${c.ip || '-'}`,
        ],
      ]),
    );
    out();
    out(`consent trail (${trail.length} event${trail.length === 1 ? '' : 's'}):`);
    out(
      table(
        trail,
        [
          { header: 'AT', value: (e) => formatTime(e.at) },
          { header: 'EVENT', value: (e) => e.type },
          { header: 'TERMS', value: (e) => e.termsVersion || '-' },
          { header: 'IP', value: (e) => e.ip || '-' },
          {
            header: 'SOURCE / DETAIL',
            value: (e) => [e.source, e.detail].filter(Boolean).join(' · ') || '-',
            flex: true,
          },
        ],
        { maxWidth: terminalWidth() },
      ),
    );
  },
});

const subscribersErase = command<{ email: string }>({
  group: 'subscribers',
  name: 'erase',
  synopsis: '<email>',
  summary: 'Erase a subscriber; a hash of the address stays suppressed',
  details: [
    'Deletes the record and consent trail (the right to erasure). ' +
      'A hash of the address stays on the suppression list, so it is never mailed again, ' +
      'even if it comes back in an import.',
  ],
  positionals: [{ name: 'email' }],
  options: {},
  parse: (_values, [email]) => ({ email }),
  async run({ container }, input) {
    await container.subscriptions.erase(input.email);
    out(`erased ${input.email.trim()}; its hash stays on the suppression list, so it will not be mailed again`);
  },
});

/** The subscribers group, in help order. */
export const SUBSCRIBER_COMMANDS = [...AUDIENCE_COMMANDS, subscribersImport, subscribersShow, subscribersErase];

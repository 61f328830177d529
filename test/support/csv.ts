/**
 * A strict RFC 4180 reader for checking exports: quoted fields may hold commas, doubled quotes and line breaks;
 * records end with CRLF. Anything else (a stray quote, a bare LF between records) throws, so a test fails on CSV
 * that a lenient reader would guess at.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) throw new Error(`unclosed quote in record ${records.length + 1}`);
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const end = text.slice(i).search(/[,\r\n"]/);
      const stop = end === -1 ? text.length : i + end;
      if (text[stop] === '"') throw new Error(`quote inside an unquoted field in record ${records.length + 1}`);
      value = text.slice(i, stop);
      i = stop;
    }
    record.push(value);
    if (text[i] === ',') {
      i++;
    } else if (text.startsWith('\r\n', i)) {
      records.push(record);
      record = [];
      i += 2;
    } else {
      throw new Error(`record ${records.length + 1} does not end with CRLF`);
    }
  }
  if (record.length) throw new Error('the last record does not end with CRLF');
  return records;
}

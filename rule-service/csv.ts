/**
 * RFC 4180 CSV: commas, double-quoted fields with "" for a quote, line breaks inside quotes. Read by
 * csv-parse with strict quoting: a quote inside an unquoted field, or text after a closing quote,
 * is an error naming its line and cell.
 */
import { CsvError, parse, type Options } from 'csv-parse/sync';

export interface CsvRow {
  /** 1-based line where the row starts. */
  line: number;
  cells: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    /** 1-based cell number in the row. */
    readonly column: number,
  ) {
    super(message);
  }
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

const OPTIONS: Options = {
  bom: true, // spreadsheet exports start with a byte-order mark
  skip_empty_lines: true,
  relax_column_count: true, // the caller names rows with too many cells
  record_delimiter: ['\r\n', '\n', '\r'],
  info: true,
};

export function parseCsv(text: string): CsvRow[] {
  // csv-parse counts a CRLF inside a quoted field as two lines: the same text with LF line ends has
  // the same records and counts lines right, so positions come from it and cells from the text itself.
  const lfText = text.replace(/\r\n/g, '\n');
  const positioned = parseRecords(lfText);
  const cells = lfText === text ? positioned.map((r) => r.record) : parseRecords(text).map((r) => r.record);
  return positioned.map((r, i) => ({ line: r.info.lines - lineBreaks(r.record), cells: cells[i] ?? [] }));
}

function parseRecords(text: string): ParsedRecord[] {
  try {
    return parse(text, OPTIONS) as unknown as ParsedRecord[]; // with `info: true` each record comes with its info
  } catch (err) {
    if (err instanceof CsvError) throw new CsvSyntaxError(syntaxMessage(err), Number(err.lines), Number(err.index) + 1);
    throw err;
  }
}

/** Line breaks inside a record's cells (its start line is that many lines before its end). */
function lineBreaks(cells: readonly string[]): number {
  return cells.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
}

function syntaxMessage(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after the closing quote of a field; a quote inside a field is written "" in a quoted field';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field; quote the whole field and write the quote as ""';
    default:
      return err.message;
  }
}

export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function csvCell(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

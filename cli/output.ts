/**
 * What commands print: a table for people, the server's JSON for scripts (`--json`). Tables are
 * plain padded columns, so they survive any terminal and `grep`.
 */
export interface Output {
  readonly json: boolean;
  /** Result data: printed as JSON with --json, else through `human`. */
  result(data: unknown, human: () => string): void;
  /** Progress for people: stderr, and only on a terminal, so that in scripts and logs stderr
   *  holds nothing but the one-line error when there is one. */
  note(text: string): void;
}

export function createOutput(json: boolean, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Output {
  return {
    json,
    result(data, human) {
      const text = json ? JSON.stringify(data, null, 2) : human();
      if (text !== '') out.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    note(text) {
      if (!json && err.isTTY === true) err.write(`${text}\n`);
    },
  };
}

export type Cell = string | number | boolean | null | undefined;

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((r) => r.map(cellText))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** One record as `key  value` lines. */
export function record(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${cellText(v)}`).join('\n');
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '-';
  return String(c).replace(/\s*\n\s*/g, ' ');
}

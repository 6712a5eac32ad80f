// Tabular output for list/find: the list, table, csv, html and json layouts
// of OVS's lib/table.c, with cells rendered as string, bare or JSON data.
import type { Datum } from '../../db/index.js';
import type { ColumnType } from '../../db/index.js';
import type { TableStyle } from './cmdline.js';
import { datumToBare, datumToJson, datumToString, serializeJson } from './values.js';

export interface Cell {
  type: ColumnType;
  datum: Datum;
}

export interface Table {
  headings: string[];
  rows: Cell[][];
}

function cellText(cell: Cell, style: TableStyle): string {
  if (style.cellFormat === 'json') return serializeJson(datumToJson(cell.type, cell.datum));
  if (style.cellFormat === 'string') return datumToString(cell.type, cell.datum);
  return datumToBare(cell.type, cell.datum);
}

function finishLine(s: string): string {
  return s.replace(/ +$/, '') + '\n';
}

/** Number of characters as C's strlen counts them (UTF-8 bytes). */
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function padRight(s: string, width: number): string {
  const n = byteLength(s);
  return n >= width ? s : s + ' '.repeat(width - n);
}

/** printf("%-*.*s", w, w, s): pad and truncate to w bytes. */
function fitTo(s: string, width: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length > width) return b.subarray(0, width).toString('utf8');
  return padRight(s, width);
}

function printTable(t: Table, style: TableStyle): string {
  const texts = t.rows.map((r) => r.map((c) => cellText(c, style)));
  const widths = t.headings.map((h, x) => {
    let w = 0;
    for (const r of texts) w = Math.max(w, byteLength(r[x]));
    if (style.maxColumnWidth > 0 && w > style.maxColumnWidth) w = style.maxColumnWidth;
    if (style.headings) w = Math.max(w, byteLength(h));
    return w;
  });
  let s = '';
  if (style.headings) {
    s += finishLine(t.headings.map((h, x) => padRight(h, widths[x])).join(' '));
    s += finishLine(widths.map((w) => '-'.repeat(w)).join(' '));
  }
  for (const r of texts) s += finishLine(r.map((txt, x) => fitTo(txt, widths[x])).join(' '));
  return s;
}

function printList(t: Table, style: TableStyle): string {
  let s = '';
  t.rows.forEach((r, y) => {
    if (y > 0) s += '\n';
    r.forEach((c, x) => {
      if (style.headings) s += `${padRight(t.headings[x], 20)}: `;
      s += cellText(c, style) + '\n';
    });
  });
  return s;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

function htmlCell(element: string, content: string): string {
  let s = `    <${element}>`;
  const uuidAt = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
  for (let p = 0; p < content.length; ) {
    const m = uuidAt.exec(content.slice(p));
    if (m) {
      s += `<a href="#${m[0]}">${m[0].slice(0, 8)}</a>`;
      p += 36;
    } else {
      s += escapeHtml(content[p]);
      p++;
    }
  }
  return s + `</${element}>\n`;
}

function printHtml(t: Table, style: TableStyle): string {
  let s = '<table border=1>\n';
  if (style.headings) s += '  <tr>\n' + t.headings.map((h) => htmlCell('th', h)).join('') + '  </tr>\n';
  for (const r of t.rows) {
    s += '  <tr>\n';
    r.forEach((c, x) => {
      const content = cellText(c, style);
      if (t.headings[x] === '_uuid') s += `    <td><a name="${escapeHtml(content)}">${escapeHtml(content.slice(0, 8))}</a></td>\n`;
      else s += htmlCell('td', content);
    });
    s += '  </tr>\n';
  }
  return s + '</table>\n';
}

function csvCell(s: string): string {
  return /[\n",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function printCsv(t: Table, style: TableStyle): string {
  let s = '';
  if (style.headings) s += t.headings.map(csvCell).join(',') + '\n';
  for (const r of t.rows) s += r.map((c) => csvCell(cellText(c, style))).join(',') + '\n';
  return s;
}

function printJson(t: Table, style: TableStyle): string {
  const data = t.rows.map((r) => r.map((c) => datumToJson(c.type, c.datum)));
  return serializeJson({ headings: t.headings, data }, style.pretty) + '\n';
}

/** Formats tables one after another, separated by a blank line as OVS does. */
export class TablePrinter {
  private first = true;

  constructor(private readonly style: TableStyle) {}

  format(t: Table): string {
    const sep = this.first ? '' : '\n';
    switch (this.style.format) {
      case 'table':
        this.first = false;
        return sep + printTable(t, this.style);
      case 'list':
        this.first = false;
        return sep + printList(t, this.style);
      case 'csv':
        this.first = false;
        return sep + printCsv(t, this.style);
      case 'html':
        return printHtml(t, this.style);
      case 'json':
        return printJson(t, this.style);
    }
  }
}

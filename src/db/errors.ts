/** An OVSDB error as RFC 7047 puts it on the wire: `{"error": tag, "details"?, "syntax"?}`. */
export class OvsdbError extends Error {
  constructor(
    readonly tag: string,
    readonly details?: string,
    readonly syntax?: string,
  ) {
    super(details === undefined ? tag : `${tag}: ${details}`);
    this.name = 'OvsdbError';
  }

  toJSON(): { error: string; details?: string; syntax?: string } {
    const out: { error: string; details?: string; syntax?: string } = { error: this.tag };
    if (this.details !== undefined) out.details = this.details;
    if (this.syntax !== undefined) out.syntax = this.syntax;
    return out;
  }
}

/** JSON with object members sorted, the way OVS quotes offending input in "syntax". */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}

export function syntaxError(json: unknown, details: string): OvsdbError {
  return new OvsdbError('syntax error', details, json === undefined ? undefined : sortedJson(json));
}

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

export function syntaxError(json: unknown, details: string): OvsdbError {
  let text: string | undefined;
  try {
    text = json === undefined ? undefined : JSON.stringify(json);
  } catch {
    text = undefined;
  }
  return new OvsdbError('syntax error', details, text);
}

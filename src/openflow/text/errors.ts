// The error every text parser in this folder throws: the message is the text
// ovs-ofctl prints after "ovs-ofctl: " for the same input.

export class FlowSyntaxError extends Error {
  override readonly name = 'FlowSyntaxError';
}

export function fail(message: string): never {
  throw new FlowSyntaxError(message);
}

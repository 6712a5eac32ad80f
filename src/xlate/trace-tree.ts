// The tree ofproto/trace prints (OVS's oftrace nodes): bridges, tables and
// buckets nest; actions and remarks are leaves. Printing indents a node one
// step more when it has later siblings or is a leaf, which is what makes a
// resubmit chain read as a flat list and a goto_table as a nested one.

export type TraceNodeType = 'bridge' | 'table' | 'thaw' | 'action' | 'detail' | 'warn' | 'error' | 'bucket';

export interface TraceNode {
  readonly type: TraceNodeType;
  readonly text: string;
  readonly subs: TraceNode[];
}

function isLeaf(t: TraceNodeType): boolean {
  return t !== 'bridge' && t !== 'table' && t !== 'thaw';
}

/** Appends a node to `list` and returns its children list (where nested reports go). */
export function report(list: TraceNode[], type: TraceNodeType, text: string): TraceNode[] {
  const node: TraceNode = { type, text, subs: [] };
  list.push(node);
  return node.subs;
}

export function formatTrace(nodes: readonly TraceNode[], level = 0): string {
  let out = '';
  nodes.forEach((n, i) => {
    if (n.type === 'bridge') out += '\n';
    const more = i < nodes.length - 1 || isLeaf(n.type) ? 1 : 0;
    const pad = ' '.repeat((level + more) * 4);
    switch (n.type) {
      case 'detail': out += `${pad} -> ${n.text}\n`; break;
      case 'warn': out += `${pad} >> ${n.text}\n`; break;
      case 'error': out += `${pad} >>>> ${n.text} <<<<\n`; break;
      case 'bridge': out += `${pad}${n.text}\n${pad}${'-'.repeat(n.text.length)}\n`; break;
      default: out += `${pad}${n.text}\n`;
    }
    out += formatTrace(n.subs, level + 2 * more);
  });
  return out;
}

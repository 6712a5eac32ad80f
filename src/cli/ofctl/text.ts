// The flow formatter tsw-ofctl prints with: the text layer's.

import { textFormatter, type FlowFormatter } from '../../openflow/print/index.js';

export const flowFormatter: FlowFormatter = textFormatter;

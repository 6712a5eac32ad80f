// The flow formatter tsw-ofctl prints with: the text layer's when it is there.

import { fallbackFormatter, type FlowFormatter } from '../../openflow/print/index.js';

export const flowFormatter: FlowFormatter = fallbackFormatter;

// Development entry: `node --import tsx src/cli/vsctl/main-run.ts ARGS...`.
import { main } from './main.js';

main(process.argv.slice(2));

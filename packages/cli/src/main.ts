import { runCli } from './cli.ts';
import { processIo } from './io.ts';

// The process entry of `sluice` (bin/sluice.mjs imports this file).
// A reader that went away (`sluice … | head`) ends the CLI quietly, as SIGPIPE would (141).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
});
const code = await runCli(process.argv.slice(2), processIo(), process.env, (c) => process.exit(c));
process.exit(code);

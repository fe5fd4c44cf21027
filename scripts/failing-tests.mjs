#!/usr/bin/env node
// Prints the failing tests of a saved `npm test` (spec reporter) output, each with the first lines of
// its error and no stack frames, so that the end of a CI log says what failed and why.
//   node scripts/failing-tests.mjs <test-output.log> [max lines per test, default 8]
import { readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';

const [file, perTestArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/failing-tests.mjs <test-output.log> [lines per test]');
  process.exit(2);
}
const perTest = Number(perTestArg ?? 8);
// Colour codes, should the reporter have written any.
const text = stripVTControlCharacters(readFileSync(file, 'utf8'));
const start = text.lastIndexOf('✖ failing tests:');
if (start < 0) {
  console.log('(no "failing tests" summary in the output: the run stopped before its end)');
  process.exit(0);
}
const out = [];
let kept = 0;
for (const line of text.slice(start).split('\n').slice(1)) {
  const trimmed = line.trim();
  if (trimmed === '' || /^at /.test(trimmed)) continue;
  if (trimmed.startsWith('test at ')) {
    out.push('', trimmed);
    kept = 0;
  } else if (trimmed.startsWith('✖ ')) {
    out.push(line);
    kept = 0;
  } else if (kept < perTest) {
    out.push(`    ${trimmed.slice(0, 300)}`);
    kept += 1;
  }
}
console.log(out.join('\n').trim());

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from './line-splitter.ts';

describe('LineSplitter', () => {
  it('joins lines split across chunks and drops \\n and a trailing \\r', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push('a\r\nb'), ['a']);
    assert.deepEqual(s.push('c\n\nd'), ['bc', '']);
    assert.deepEqual(s.end(), ['d']);
    assert.deepEqual(s.end(), []);
  });

  it('cuts lines longer than the limit into pieces', () => {
    const s = new LineSplitter(4);
    assert.deepEqual(s.push('abcdefghij'), ['abcd', 'efgh']);
    assert.deepEqual(s.push('\n'), ['ij']);
    assert.deepEqual(s.push('0123456789\n'), ['0123', '4567', '89']);
  });
});

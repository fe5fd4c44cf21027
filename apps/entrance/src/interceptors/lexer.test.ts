// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell ${#x} is part of the tested code
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commentRanges, JAVA_SYNTAX, PYTHON_SYNTAX, SCALA_SYNTAX, SHELL_SYNTAX, type Syntax, sqlSyntax, tokenize } from './lexer.ts';

const kinds = (code: string, syntax: Syntax) =>
  tokenize(code, syntax)
    .filter((t) => t.kind !== 'space')
    .map((t) => `${t.kind}:${t.text}`);
const comments = (code: string, syntax: Syntax) => commentRanges(code, syntax).map(([s, e]) => code.slice(s, e));

describe('lexer', () => {
  test('tokens cover the code exactly', () => {
    const code = "select a, 'b''c' -- x\n/* y */ from \"t\";";
    const tokens = tokenize(code, sqlSyntax());
    assert.equal(tokens.map((t) => t.text).join(''), code);
    for (let i = 1; i < tokens.length; i++) assert.equal(tokens[i]!.start, tokens[i - 1]!.end);
  });

  test('SQL strings, quoted names, comments, dollar quotes', () => {
    assert.deepEqual(kinds("select 'it''s' -- c\n", sqlSyntax()), ['word:select', "string:'it''s'", 'comment:-- c']);
    assert.deepEqual(kinds('a /* x /* y */ b', sqlSyntax()), ['word:a', 'comment:/* x /* y */', 'word:b']);
    assert.deepEqual(kinds('a /* x /* y */ b */ c', sqlSyntax({ nestedComments: true })), ['word:a', 'comment:/* x /* y */ b */', 'word:c']);
    assert.deepEqual(kinds('$tag$ a $$ b $tag$ x$y$', sqlSyntax()), ['string:$tag$ a $$ b $tag$', 'word:x$y$']);
    assert.deepEqual(kinds("E'a\\'b' 'a\\'", sqlSyntax()), ['word:E', "string:'a\\'b'", "string:'a\\'"]);
    assert.deepEqual(kinds("'a\\'b'", sqlSyntax({ backslashEscapes: true })), ["string:'a\\'b'"]);
    assert.deepEqual(kinds('a # b', sqlSyntax({ hashComments: true })), ['word:a', 'comment:# b']);
    assert.deepEqual(kinds('/*!50000 drop */', sqlSyntax({ executableComments: true })), ['word:50000', 'word:drop']);
    assert.deepEqual(kinds("'open", sqlSyntax()), ["string:'open"]);
  });

  test('Python, shell, Scala and Java comments', () => {
    assert.deepEqual(comments("x = '#' # real\ns = '''#\n''' # two", PYTHON_SYNTAX), ['# real', '# two']);
    assert.deepEqual(comments('echo a#b ${#x} "#" \'#\' # c\n(#d)', SHELL_SYNTAX), ['# c', '#d)']);
    assert.deepEqual(comments('val s = "//" // c\n/* a /* b */ c */ x', SCALA_SYNTAX), ['// c', '/* a /* b */ c */']);
    assert.deepEqual(comments('char c = \'"\'; // c\nString s = "/*";', JAVA_SYNTAX), ['// c']);
    assert.deepEqual(comments("val sym = 'foo // c", SCALA_SYNTAX), ['// c']);
  });
});

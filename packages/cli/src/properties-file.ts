/**
 * Parses a Java `.properties` file (as linkis-cli's `linkis-cli.properties` is written): `key=value`
 * or `key: value` lines, `#` and `!` comments, trailing-backslash continuation lines and the usual
 * escapes. Unicode escapes (`\uXXXX`) are decoded.
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = (lines[i] as string).replace(/^\s+/, '');
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsWithOddBackslashes(line) && i + 1 < lines.length) line = line.slice(0, -1) + (lines[++i] as string).replace(/^\s+/, '');
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)$/s.exec(line);
    if (!m) continue;
    out[unescapeProperty(m[1] as string)] = unescapeProperty(m[2] as string);
  }
  return out;
}

function endsWithOddBackslashes(line: string): boolean {
  const m = /\\+$/.exec(line);
  return !!m && m[0].length % 2 === 1;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(Number.parseInt(c.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

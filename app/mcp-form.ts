// mcp-form.ts — what the Tools page's "Add an MCP server" fields mean: arguments split at spaces
// except inside quotes (a path with a space stays one argument), environment variables as
// KEY=value lines and HTTP headers as "Name: value" lines. A line that is neither is reported,
// not dropped, so a typo never silently loses a setting.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Splits a command line into arguments: whitespace separates, '…' and "…" group, \ escapes in "…". */
export function splitArgs(text: string): Parsed<string[]> {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") { quote = ch; has = true; continue; }
    if (/\s/.test(ch)) { if (has) { out.push(cur); cur = ''; has = false; } continue; }
    cur += ch; has = true;
  }
  if (quote) return { ok: false, error: `arguments: the ${quote} quote is not closed` };
  if (has) out.push(cur);
  return { ok: true, value: out };
}

function lines(text: string): string[] { return text.split('\n').map((l) => l.trim()).filter(Boolean); }

/** KEY=value per line (the value may hold '='); keys are letters, digits and _. */
export function parseEnvLines(text: string): Parsed<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf('=');
    const key = at > 0 ? line.slice(0, at).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return { ok: false, error: `environment: '${line}' is not KEY=value` };
    env[key] = line.slice(at + 1);
  }
  return { ok: true, value: env };
}

/** "Name: value" per line, as HTTP writes headers. */
export function parseHeaderLines(text: string): Parsed<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf(':');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return { ok: false, error: `headers: '${line}' is not "Name: value"` };
    headers[name] = line.slice(at + 1).trim();
  }
  return { ok: true, value: headers };
}

// The Tools page's server form: arguments keep quoted paths whole, environment and header lines
// parse, and a line that is not well-formed is reported rather than dropped.
import { describe, expect, it } from 'vitest';
import { parseEnvLines, parseHeaderLines, splitArgs } from '../../../app/mcp-form.ts';

describe('MCP server form', () => {
  it('splits arguments at spaces, not inside quotes', () => {
    expect(splitArgs('  -y  @modelcontextprotocol/server-filesystem "/home/me/My Documents" \'a b\' ""  ')).toEqual({
      ok: true, value: ['-y', '@modelcontextprotocol/server-filesystem', '/home/me/My Documents', 'a b', ''],
    });
    expect(splitArgs('"say \\"hi\\""')).toEqual({ ok: true, value: ['say "hi"'] });
    expect(splitArgs('')).toEqual({ ok: true, value: [] });
    expect(splitArgs('"open')).toEqual({ ok: false, error: 'arguments: the " quote is not closed' });
  });
  it('reads KEY=value lines; a bad line is an error', () => {
    expect(parseEnvLines('API_KEY=abc=def\n\n  DEBUG=1 \nEMPTY=')).toEqual({ ok: true, value: { API_KEY: 'abc=def', DEBUG: '1', EMPTY: '' } });
    expect(parseEnvLines('no equals here')).toMatchObject({ ok: false, error: expect.stringMatching(/not KEY=value/) });
    expect(parseEnvLines('1BAD=x').ok).toBe(false);
  });
  it('reads "Name: value" header lines; a bad line is an error', () => {
    expect(parseHeaderLines('Authorization: Bearer x:y\nX-Team:  core ')).toEqual({ ok: true, value: { Authorization: 'Bearer x:y', 'X-Team': 'core' } });
    expect(parseHeaderLines('Bad Header: x').ok).toBe(false);
    expect(parseHeaderLines(': x').ok).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { entryMatches } from './activity';
import type { ActivityEntry } from './types';

const entry: ActivityEntry = {
  seq: 7,
  time: '2026-11-20T10:00:00Z',
  conversation: 'research',
  client_name: 'Claude Code',
  token_label: 'laptop token',
  connector_id: 'c_1',
  connector: 'Docs',
  tool: 'search',
  exposed_name: 'docs_search',
  arguments: { query: 'say "hi"', pages: [1, 2] },
  result: { content: [{ type: 'text', text: 'Found it' }] },
  result_size: 40,
  outcome: 'ok',
  duration_ms: 12,
};

describe('entryMatches', () => {
  it('matches the search in every field the server searches', () => {
    for (const q of ['SEARCH', 'docs_search', 'docs', 'claude', 'laptop token', 'research', 'say "hi"', 'query', 'found it']) {
      expect(entryMatches(entry, { q }), q).toBe(true);
    }
    expect(entryMatches(entry, { q: 'nowhere' })).toBe(false);
    expect(entryMatches(entry, { q: '\\"hi' }), 'escaped JSON is not searched').toBe(false);
  });

  it('applies the exact filters', () => {
    expect(entryMatches(entry, { connector: 'c_1', outcome: 'ok', conversation: 'research', tool: 'docs_search' })).toBe(true);
    expect(entryMatches(entry, { tool: 'search' })).toBe(true);
    expect(entryMatches(entry, { connector: 'c_2' })).toBe(false);
    expect(entryMatches(entry, { outcome: 'denied' })).toBe(false);
    expect(entryMatches(entry, { conversation: 'default' })).toBe(false);
    expect(entryMatches(entry, { tool: 'sea' })).toBe(false);
  });
});

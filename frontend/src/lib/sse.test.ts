import { describe, expect, it } from 'vitest';
import { SSEParser } from './sse';

describe('SSEParser', () => {
  it('joins lines split across chunks and ignores comments', () => {
    const p = new SSEParser();
    expect(p.push(': hello\n\nevent: st')).toEqual([]);
    expect(p.push('ep\ndata: {"a":')).toEqual([]);
    expect(p.push('1}\n\n')).toEqual([{ event: 'step', data: '{"a":1}' }]);
  });

  it('handles CRLF, multi-line data and default event names', () => {
    const p = new SSEParser();
    expect(p.push('data: one\r\ndata: two\r\n\r')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });

  it('flushes a final message at the end', () => {
    const p = new SSEParser();
    p.push('event: result\ndata: {}');
    expect(p.end()).toEqual([{ event: 'result', data: '{}' }]);
  });
});

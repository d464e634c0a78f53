// A parser for text/event-stream bodies read with fetch (the connection
// test streams its steps this way; EventSource cannot POST).

export interface SSEMessage {
  event: string;
  data: string;
}

/**
 * SSEParser turns chunks of an event stream into messages. Chunks may split
 * lines anywhere; comment lines (": keep-alive") are ignored; an event
 * without an "event:" field is a "message", as in the spec.
 */
export class SSEParser {
  private buf = '';
  private event = '';
  private data: string[] = [];

  /** push adds a chunk and returns the messages it completed. */
  push(chunk: string): SSEMessage[] {
    this.buf += chunk;
    const out: SSEMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  /** end flushes a final message that was not followed by a blank line. */
  end(): SSEMessage[] {
    const out: SSEMessage[] = [];
    if (this.buf !== '') {
      this.line(this.buf, out);
      this.buf = '';
    }
    this.line('', out);
    return out;
  }

  private line(line: string, out: SSEMessage[]) {
    if (line === '') {
      if (this.data.length > 0) {
        out.push({ event: this.event || 'message', data: this.data.join('\n') });
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

/**
 * Server-sent events from a fetch body (the HTML spec's event stream format, the parts Gantry
 * sends: `event`, `data`, comments). Each event's data is bounded, so a broken server cannot make
 * the CLI buffer without limit.
 */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

const MAX_EVENT_CHARS = 8 * 1024 * 1024;

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (buffer.length > MAX_EVENT_CHARS) throw new Error('an event of the log stream is too large');
    let nl: number;
    while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
      // A CR last in the buffer may be the first half of a CRLF split across chunks.
      if (nl === buffer.length - 1 && buffer[nl] === '\r') break;
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

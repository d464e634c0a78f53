import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, toApiError } from './api';

/** fakeFetch records requests and answers from a queue of responses. */
function fakeFetch(...responses: (Response | Error)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const r = responses.shift();
    if (!r) throw new Error('no more fake responses');
    if (r instanceof Error) throw r;
    return r;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('api requests', () => {
  it('sends JSON with the same-origin cookie and decodes the answer', async () => {
    const f = fakeFetch(json(201, { id: 'c_1', name: 'Docs' }));
    const api = createApi({ fetch: f.fetch });
    const c = await api.createConnector({ name: 'Docs', url: 'https://docs.example/mcp' });
    expect(c).toEqual({ id: 'c_1', name: 'Docs' });
    expect(f.calls[0].url).toBe('/api/v1/connectors');
    expect(f.calls[0].init.method).toBe('POST');
    expect(f.calls[0].init.credentials).toBe('same-origin');
    expect((f.calls[0].init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ name: 'Docs', url: 'https://docs.example/mcp' });
  });

  it('escapes references in paths', async () => {
    const f = fakeFetch(json(200, []));
    const api = createApi({ fetch: f.fetch });
    await api.setToolPolicy('my/conn', 'a b?', 'disabled');
    expect(f.calls[0].url).toBe('/api/v1/connectors/my%2Fconn/tools/a%20b%3F/policy');
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ policy: 'disabled' });
  });

  it('returns undefined for 204 No Content', async () => {
    const f = fakeFetch(new Response(null, { status: 204 }));
    const api = createApi({ fetch: f.fetch });
    await expect(api.deleteConnector('x')).resolves.toBeUndefined();
    expect(f.calls[0].init.method).toBe('DELETE');
  });

  it('builds activity queries without empty filters', async () => {
    const f = fakeFetch(json(200, { entries: [] }));
    const api = createApi({ fetch: f.fetch });
    await api.listActivity({ q: 'echo', connector: '', outcome: 'ok', before: 0, limit: 100 });
    expect(f.calls[0].url).toBe('/api/v1/activity?q=echo&outcome=ok&limit=100');
  });

  it('sends bulk policy changes with the tool list', async () => {
    const f = fakeFetch(json(200, []));
    const api = createApi({ fetch: f.fetch });
    await api.setToolPolicies('c', ['a', 'b'], 'needs_approval');
    expect(f.calls[0].init.method).toBe('PUT');
    expect(f.calls[0].url).toBe('/api/v1/connectors/c/tools/policy');
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ policy: 'needs_approval', tools: ['a', 'b'] });
  });
});

describe('api errors', () => {
  const body = {
    error: {
      message: 'The connector has 2 problem(s).',
      code: 'invalid',
      slug: 'validation_failed',
      status: 400,
      request_id: 'r1',
      suggested_fix: 'Correct the fields listed and try again; nothing was saved.',
      errors: [
        { field: 'auth.api_key.name', message: 'is required' },
        { field: 'headers[1].name', message: 'is not a valid header name' },
      ],
    },
  };

  it('turn the error shape into an ApiError with fix and field errors', async () => {
    const api = createApi({ fetch: fakeFetch(json(400, body)).fetch });
    const err = await api.createConnector({}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe('The connector has 2 problem(s).');
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid');
    expect(err.slug).toBe('validation_failed');
    expect(err.fix).toMatch(/nothing was saved/);
    expect(err.requestId).toBe('r1');
    expect(err.forField('auth.api_key.name')).toEqual(['is required']);
    expect(err.forField('headers[1].name')).toEqual(['is not a valid header name']);
    expect(err.forField('name')).toEqual([]);
  });

  it('call the unauthorized hook on 401', async () => {
    const onUnauthorized = vi.fn();
    const api = createApi({
      fetch: fakeFetch(json(401, { error: { message: 'The admin API needs the admin token.', code: 'unauthorized' } })).fetch,
      onUnauthorized,
    });
    const err = await api.listConnectors().catch((e) => e);
    expect(err.status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('explain a network failure with a fix', async () => {
    const api = createApi({ fetch: fakeFetch(new TypeError('Failed to fetch')).fetch });
    const err = await api.listConnectors().catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('unavailable');
    expect(err.fix).toMatch(/running/);
  });

  it('cope with a non-JSON error body', async () => {
    const api = createApi({ fetch: fakeFetch(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })).fetch });
    const err = await api.listConnectors().catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.message).toBe('Patchbay answered 502 Bad Gateway.');
  });

  it('mark missing routes as a missing feature', async () => {
    const api = createApi({ fetch: fakeFetch(json(404, { error: { message: 'No API route GET /api/v1/clients.', code: 'not_found', slug: 'no_route' } })).fetch });
    const err = await api.listClients().catch((e) => e);
    expect(err.isMissingFeature).toBe(true);
  });

  it('toApiError keeps ApiErrors and wraps the rest', () => {
    const e = new ApiError({ code: 'invalid', message: 'x' });
    expect(toApiError(e)).toBe(e);
    expect(toApiError(new Error('boom')).message).toBe('Patchbay did not answer.');
  });
});

describe('connection test streaming', () => {
  const stream = (chunks: string[]) =>
    new Response(
      new ReadableStream({
        start(c) {
          for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
          c.close();
        },
      }),
      { status: 200, headers: { 'Content-Type': 'text/event-stream' } },
    );

  it('reports each step as it arrives and returns the result', async () => {
    const step = (id: string, status: string) => JSON.stringify({ id, title: id, status, duration_ms: 1 });
    const f = fakeFetch(
      stream([
        `event: step\ndata: ${step('resolve', 'running')}\n\n`,
        `event: step\ndata: ${step('resolve', 'ok')}\n\nevent: st`,
        `ep\ndata: ${step('tools', 'ok')}\n\n`,
        `: keep-alive\n\nevent: result\ndata: {"ok":true,"steps":[${step('resolve', 'ok')},${step('tools', 'ok')}]}\n\n`,
      ]),
    );
    const api = createApi({ fetch: f.fetch });
    const seen: string[] = [];
    const res = await api.testUnsaved({ name: 'x' }, (s) => seen.push(`${s.id}:${s.status}`));
    expect(seen).toEqual(['resolve:running', 'resolve:ok', 'tools:ok']);
    expect(res.ok).toBe(true);
    expect(res.steps).toHaveLength(2);
    expect((f.calls[0].init.headers as Record<string, string>).Accept).toBe('text/event-stream');
    expect(f.calls[0].url).toBe('/api/v1/connectors/test');
  });

  it('falls back to a JSON result where the host cannot stream', async () => {
    const f = fakeFetch(json(200, { ok: false, steps: [{ id: 'connect', title: 'Open a connection', status: 'failed', error: 'refused', duration_ms: 2 }] }));
    const api = createApi({ fetch: f.fetch });
    const seen: string[] = [];
    const res = await api.testSaved('c_1', (s) => seen.push(s.id));
    expect(res.ok).toBe(false);
    expect(seen).toEqual(['connect']);
    expect(f.calls[0].url).toBe('/api/v1/connectors/c_1/test');
  });

  it('fails clearly when the stream ends without a result', async () => {
    const api = createApi({ fetch: fakeFetch(stream(['event: step\ndata: {"id":"resolve","status":"running"}\n\n'])).fetch });
    await expect(api.testUnsaved({}, () => {})).rejects.toThrow(/stopped before it finished/);
  });

  it('returns validation errors of the form instead of streaming', async () => {
    const api = createApi({
      fetch: fakeFetch(json(400, { error: { message: 'bad', code: 'invalid', errors: [{ field: 'url', message: 'is required' }] } })).fetch,
    });
    const err = await api.testUnsaved({}, () => {}).catch((e) => e);
    expect(err.forField('url')).toEqual(['is required']);
  });
});

// The one module that talks to the admin API (/api/v1, same origin). In the
// window the Wails asset server routes /api/v1 to the in-process handler;
// in a browser the session cookie set by the login link authenticates.
//
// Every failure becomes an ApiError carrying the API's error shape
// (message, suggested fix, field errors), so screens can show it well.

import { SSEParser } from './sse';
import type {
  ActivityEntry,
  ActivityFilter,
  ActivityPage,
  Approval,
  ClientConnectResult,
  ClientDisconnectResult,
  ClientInfo,
  ClientSnippet,
  ClientUndoResult,
  ClientToken,
  Connector,
  ConnectorView,
  ConversationView,
  Decision,
  FieldError,
  IssuedToken,
  LiveSession,
  OAuthDiscovery,
  OAuthLogin,
  OAuthLogoutResult,
  OAuthStatus,
  Policy,
  RedirectPreview,
  Settings,
  TestResult,
  TestStep,
  Tool,
  ToolChanges,
} from './types';

/** The detail object of the API's error shape ({"error": {...}}). */
export interface ErrorDetail {
  message: string;
  code: string;
  slug?: string;
  status?: number;
  request_id?: string;
  suggested_fix?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly slug: string;
  readonly fix: string;
  readonly fields: FieldError[];
  readonly requestId: string;

  constructor(d: ErrorDetail, status = d.status ?? 0) {
    super(d.message || 'Something went wrong.');
    this.name = 'ApiError';
    this.status = status;
    this.code = d.code || 'internal';
    this.slug = d.slug ?? '';
    this.fix = d.suggested_fix ?? '';
    this.fields = d.errors ?? [];
    this.requestId = d.request_id ?? '';
  }

  /** Messages for exactly this field path ("auth.api_key.name"). */
  forField(field: string): string[] {
    return this.fields.filter((f) => f.field === field).map((f) => f.message);
  }

  /** True when the error is the API saying a route or feature is absent. */
  get isMissingFeature(): boolean {
    return this.slug === 'no_route' || this.slug === 'service_unavailable';
  }
}

/** toApiError turns anything thrown into an ApiError a screen can show. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') {
    return new ApiError({ code: 'timeout', message: 'The request was cancelled.' });
  }
  return new ApiError({
    code: 'unavailable',
    slug: 'network',
    message: 'Patchbay did not answer.',
    suggested_fix:
      'Check that Patchbay is still running (the desktop app or `patchbay serve`), then try again.',
  });
}

async function errorFrom(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const d = (body as { error?: ErrorDetail } | undefined)?.error;
  if (d && typeof d.message === 'string') return new ApiError(d, res.status);
  return new ApiError(
    {
      code: res.status >= 500 ? 'internal' : 'invalid',
      message: `Patchbay answered ${res.status} ${res.statusText}.`.replace(' .', '.'),
    },
    res.status,
  );
}

export interface ApiConfig {
  /** fetch to use; tests pass a fake. */
  fetch?: typeof fetch;
  /** Prefix of every path; '' for same origin. */
  base?: string;
  /** Called on every 401, so the app can show its sign-in screen. */
  onUnauthorized?: (err: ApiError) => void;
}

const enc = encodeURIComponent;

function query(params: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== 0) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function createApi(cfg: ApiConfig = {}) {
  const base = cfg.base ?? '';
  const doFetch: typeof fetch = (input, init) => (cfg.fetch ?? globalThis.fetch)(input, init);

  async function send(method: string, path: string, body?: unknown, accept = 'application/json') {
    const headers: Record<string, string> = { Accept: accept };
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await doFetch(base + path, init);
    } catch (err) {
      throw toApiError(err);
    }
    if (!res.ok) {
      const err = await errorFrom(res);
      if (res.status === 401) cfg.onUnauthorized?.(err);
      throw err;
    }
    return res;
  }

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * streamTest runs a connection test, calling onStep as each step starts
   * and ends. Where the host cannot stream (the window's asset server may
   * answer with one JSON document), the steps arrive together at the end.
   */
  async function streamTest(
    path: string,
    body: unknown,
    onStep: (s: TestStep) => void,
  ): Promise<TestResult> {
    const res = await send('POST', path, body, 'text/event-stream');
    const type = res.headers.get('Content-Type') ?? '';
    if (!type.startsWith('text/event-stream') || !res.body) {
      const result = (await res.json()) as TestResult;
      result.steps.forEach(onStep);
      return result;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SSEParser();
    let result: TestResult | undefined;
    const handle = (msgs: { event: string; data: string }[]) => {
      for (const m of msgs) {
        if (m.event === 'step') onStep(JSON.parse(m.data) as TestStep);
        else if (m.event === 'result') result = JSON.parse(m.data) as TestResult;
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      handle(parser.push(value));
    }
    handle(parser.end());
    if (!result) {
      throw new ApiError({
        code: 'unavailable',
        message: 'The connection test stopped before it finished.',
        suggested_fix: 'Try again; if it keeps happening, check that Patchbay is still running.',
      });
    }
    return result;
  }

  return {
    health: () => request<{ status: string; version: string }>('GET', '/api/v1/health'),

    listConnectors: () => request<ConnectorView[]>('GET', '/api/v1/connectors'),
    getConnector: (ref: string) => request<ConnectorView>('GET', `/api/v1/connectors/${enc(ref)}`),
    createConnector: (c: Partial<Connector>) =>
      request<ConnectorView>('POST', '/api/v1/connectors', c),
    updateConnector: (ref: string, c: Partial<Connector>) =>
      request<ConnectorView>('PUT', `/api/v1/connectors/${enc(ref)}`, c),
    deleteConnector: (ref: string) => request<void>('DELETE', `/api/v1/connectors/${enc(ref)}`),
    /** Tests the connector in the form without saving it. */
    testUnsaved: (c: Partial<Connector>, onStep: (s: TestStep) => void) =>
      streamTest('/api/v1/connectors/test', c, onStep),
    testSaved: (ref: string, onStep: (s: TestStep) => void) =>
      streamTest(`/api/v1/connectors/${enc(ref)}/test`, undefined, onStep),
    reconnect: (ref: string) =>
      request<ConnectorView>('POST', `/api/v1/connectors/${enc(ref)}/reconnect`),

    listTools: (ref: string) => request<Tool[]>('GET', `/api/v1/connectors/${enc(ref)}/tools`),
    refreshTools: (ref: string) =>
      request<ToolChanges>('POST', `/api/v1/connectors/${enc(ref)}/tools/refresh`),
    setToolPolicy: (ref: string, tool: string, policy: Policy) =>
      request<Tool[]>('PUT', `/api/v1/connectors/${enc(ref)}/tools/${enc(tool)}/policy`, {
        policy,
      }),
    /** Sets the policy of the named tools; an empty list means every tool. */
    setToolPolicies: (ref: string, tools: string[], policy: Policy) =>
      request<Tool[]>('PUT', `/api/v1/connectors/${enc(ref)}/tools/policy`, { policy, tools }),
    acceptTool: (ref: string, tool: string) =>
      request<Tool[]>('POST', `/api/v1/connectors/${enc(ref)}/tools/${enc(tool)}/accept`),

    oauthLogin: (ref: string) =>
      request<OAuthLogin>('POST', `/api/v1/connectors/${enc(ref)}/login`),
    oauthLogout: (ref: string) =>
      request<OAuthLogoutResult>('POST', `/api/v1/connectors/${enc(ref)}/logout`),
    oauthStatus: (ref: string) =>
      request<OAuthStatus>('GET', `/api/v1/connectors/${enc(ref)}/oauth`),
    oauthDiscover: (issuer: string) =>
      request<OAuthDiscovery>('POST', '/api/v1/oauth/discover', { issuer }),
    oauthRedirectURI: (ports: number[]) =>
      request<RedirectPreview>(
        'GET',
        `/api/v1/oauth/redirect-uri${query({ ports: ports.join(',') })}`,
      ),

    listConversations: () => request<ConversationView[]>('GET', '/api/v1/conversations'),
    getConversation: (ref: string) =>
      request<ConversationView>('GET', `/api/v1/conversations/${enc(ref)}`),
    createConversation: (c: { name: string; slug?: string; connectors?: string[] }) =>
      request<ConversationView>('POST', '/api/v1/conversations', c),
    deleteConversation: (ref: string) =>
      request<void>('DELETE', `/api/v1/conversations/${enc(ref)}`),
    setConnectorEnabled: (conversation: string, connector: string, enabled: boolean) =>
      request<ConversationView>(
        'PUT',
        `/api/v1/conversations/${enc(conversation)}/connectors/${enc(connector)}`,
        { enabled },
      ),
    listSessions: (conversation: string) =>
      request<LiveSession[]>('GET', `/api/v1/conversations/${enc(conversation)}/sessions`),

    listTokens: () => request<ClientToken[]>('GET', '/api/v1/tokens'),
    issueToken: (label: string, client?: string) =>
      request<IssuedToken>('POST', '/api/v1/tokens', { label, client }),
    revokeToken: (id: string) => request<void>('DELETE', `/api/v1/tokens/${enc(id)}`),

    getSettings: () => request<Settings>('GET', '/api/v1/settings'),
    updateSettings: (s: Partial<Settings>) => request<Settings>('PUT', '/api/v1/settings', s),

    listActivity: (f: ActivityFilter = {}) =>
      request<ActivityPage>('GET', `/api/v1/activity${query(f)}`),
    getActivity: (seq: number) => request<ActivityEntry>('GET', `/api/v1/activity/${seq}`),

    listApprovals: () => request<Approval[]>('GET', '/api/v1/approvals'),
    decideApproval: (id: string, decision: Decision) =>
      request<void>('POST', `/api/v1/approvals/${enc(id)}`, { decision }),

    listClients: () => request<ClientInfo[]>('GET', '/api/v1/clients'),
    connectClient: (
      id: string,
      o: { conversation: string; dry_run?: boolean; overwrite?: boolean },
    ) => request<ClientConnectResult>('POST', `/api/v1/clients/${enc(id)}/connect`, o),
    disconnectClient: (id: string) =>
      request<ClientDisconnectResult>('POST', `/api/v1/clients/${enc(id)}/disconnect`, {}),
    undoClient: (id: string, force = false) =>
      request<ClientUndoResult>('POST', `/api/v1/clients/${enc(id)}/undo`, force ? { force } : {}),
    /** The manual-setup snippet; issueToken puts a new token in it. */
    clientSnippet: (id: string, conversation: string, issueToken = false) =>
      issueToken
        ? request<ClientSnippet>('POST', `/api/v1/clients/${enc(id)}/snippet`, {
            conversation,
            issue_token: true,
          })
        : request<ClientSnippet>(
            'GET',
            `/api/v1/clients/${enc(id)}/snippet${query({ conversation })}`,
          ),
  };
}

let unauthorized: (err: ApiError) => void = () => {};

/** onUnauthorized sets what happens when the API answers 401. */
export function onUnauthorized(fn: (err: ApiError) => void) {
  unauthorized = fn;
}

/** The app's API client (same origin). */
export const api = createApi({ onUnauthorized: (err) => unauthorized(err) });

// The JSON the admin API speaks: mirrors of the Go domain types in
// backend/*.go and the views in backend/api. Keep field names identical.

export type Policy = 'always_allow' | 'needs_approval' | 'disabled';
export const POLICIES: Policy[] = ['always_allow', 'needs_approval', 'disabled'];

export type Transport = 'auto' | 'streamable-http' | 'sse';
export type AuthType = 'none' | 'api-key' | 'oauth';

/** A secret field: on output only where it lives; on input `value` is a new value. */
export interface Secret {
  source?: 'keychain' | 'env' | '';
  key?: string;
  env?: string;
  value?: string;
}

export interface APIKeyAuth {
  in: 'header' | 'query';
  name: string;
  prefix?: string;
  value: Secret | null;
}

export interface OAuthAuth {
  client_id?: string;
  client_secret?: Secret | null;
  scopes?: string[];
  issuer?: string;
  authorization_url?: string;
  token_url?: string;
  revocation_url?: string;
  token_auth_method?: '' | 'client_secret_post' | 'client_secret_basic' | 'none';
  disable_pkce?: boolean;
  redirect_ports?: number[];
}

export interface Auth {
  type: AuthType;
  api_key?: APIKeyAuth | null;
  oauth?: OAuthAuth | null;
}

export interface Header {
  name: string;
  value?: string;
  secret?: Secret | null;
}

export interface Connector {
  id: string;
  name: string;
  slug: string;
  description?: string;
  icon?: string;
  url: string;
  transport: Transport;
  detected_transport?: string;
  auth: Auth;
  headers?: Header[];
  default_policy?: Policy | '';
  call_timeout_seconds?: number;
  created_at?: string;
  updated_at?: string;
}

export type ConnectorState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'needs-sign-in'
  | 'needs-attention'
  | 'error';

export interface ConnectorStatus {
  connector_id: string;
  state: ConnectorState;
  transport?: string;
  protocol_version?: string;
  server_name?: string;
  server_version?: string;
  last_error?: string;
  last_error_fix?: string;
  last_error_at?: string;
  connected_at?: string;
  tool_count: number;
}

export interface ToolCounts {
  total: number;
  always_allow: number;
  needs_approval: number;
  disabled: number;
  held: number;
}

export interface ConnectorView extends Connector {
  status: ConnectorStatus;
  tools: ToolCounts;
}

export interface ToolDef {
  name: string;
  title?: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
  annotations?: Record<string, unknown>;
  meta?: unknown;
}

export interface Tool extends ToolDef {
  connector_id: string;
  pin: string;
  policy: Policy;
  pending?: ToolDef;
  pending_at?: string;
  removed?: boolean;
  first_seen: string;
  last_seen: string;
}

export interface ToolChanges {
  added?: string[];
  removed?: string[];
  changed?: string[];
}

export interface TestStep {
  id: string;
  title: string;
  status: 'ok' | 'failed' | 'skipped' | 'running';
  detail?: string;
  error?: string;
  fix?: string;
  duration_ms: number;
}

export interface TestResult {
  ok: boolean;
  steps: TestStep[];
}

export interface LiveSession {
  id: string;
  conversation: string;
  client_name?: string;
  client_version?: string;
  protocol_version?: string;
  token_id?: string;
  token_label?: string;
  since: string;
  last_call?: string;
}

export interface Conversation {
  id: string;
  name: string;
  slug: string;
  connectors: string[];
  allowed_tools?: string[];
  created_at: string;
  updated_at: string;
}

export interface ConversationView extends Conversation {
  mcp_url: string;
  commands: Record<string, string>;
  sessions: LiveSession[];
}

export interface ClientToken {
  id: string;
  label: string;
  client?: string;
  hint: string;
  created_at: string;
  last_used_at?: string;
}

export interface IssuedToken extends ClientToken {
  token: string;
}

export interface Settings {
  port: number;
  approval_timeout_seconds: number;
  activity_retention_days: number;
  activity_max_entries: number;
  default_policy?: Policy | '';
  theme: 'system' | 'light' | 'dark';
  elicit_approvals: boolean;
  close_hint_shown?: boolean;
}

export type Outcome =
  | 'ok'
  | 'tool_error'
  | 'error'
  | 'denied'
  | 'timed_out'
  | 'blocked'
  | 'cancelled';

export interface ActivityEntry {
  seq: number;
  time: string;
  conversation: string;
  session_id?: string;
  client_name?: string;
  token_label?: string;
  connector_id?: string;
  connector?: string;
  tool?: string;
  exposed_name: string;
  arguments?: unknown;
  result?: unknown;
  result_size: number;
  result_truncated?: boolean;
  outcome: Outcome;
  error?: string;
  duration_ms: number;
  approval?: string;
}

export interface ActivityPage {
  entries: ActivityEntry[];
  next?: number;
}

export interface ActivityFilter {
  connector?: string;
  tool?: string;
  outcome?: string;
  conversation?: string;
  q?: string;
  before?: number;
  limit?: number;
}

export interface Approval {
  id: string;
  conversation: string;
  client_name?: string;
  token_label?: string;
  connector_id: string;
  connector: string;
  tool: string;
  exposed_name: string;
  title?: string;
  arguments?: unknown;
  created_at: string;
  expires_at: string;
}

export type Decision = 'allow_once' | 'allow_always' | 'deny';

export interface OAuthLogin {
  connector_id?: string;
  authorization_url: string;
  redirect_uri: string;
  state?: string;
  /** A sign-in was already under way and this request joined it. */
  joined?: boolean;
}

export interface OAuthProgress {
  connector_id: string;
  step: 'waiting_for_browser' | 'exchanging_code' | 'done' | 'failed' | 'signed_out';
  message?: string;
  redirect_uri?: string;
  authorization_url?: string;
  code?: string;
  slug?: string;
  suggested_fix?: string;
}

/** The redirect URI a sign-in would use (backend/oauth RedirectPreview). */
export interface RedirectPreview {
  redirect_uri: string;
  port?: number;
  available: boolean;
  any_port?: boolean;
  note?: string;
}

export interface OAuthStatus {
  signed_in: boolean;
  expires_at?: string;
  scopes?: string[];
  has_refresh_token: boolean;
  reason?: string;
  redirect: RedirectPreview;
  issuer?: string;
  client_id?: string;
  registration?: string;
}

export interface OAuthLogoutResult {
  was_signed_in: boolean;
  revoked: boolean;
  revoke_error?: string;
}

export interface OAuthDiscovery {
  authorization_url?: string;
  token_url?: string;
  revocation_url?: string;
  registration_url?: string;
  scopes_supported?: string[];
  token_auth_methods?: string[];
}

export interface ClientInfo {
  id: string;
  name: string;
  installed: boolean;
  config_path: string;
  config_exists: boolean;
  connected: boolean;
  conversation: string;
  method: 'http' | 'stdio';
  notes: string;
  format?: string;
  scopes?: string[];
  has_command?: boolean;
  can_undo?: boolean;
}

export interface ClientConnectResult {
  config_path: string;
  diff: string;
  backup_path: string;
  needs_confirmation: boolean;
  message: string;
  connected?: boolean;
  dry_run?: boolean;
  entry?: string;
  conversation?: string;
  token_hint?: string;
}

export interface ClientDisconnectResult {
  config_path: string;
  backup_path: string;
  removed: boolean;
  token_revoked?: boolean;
  message?: string;
}

export interface ClientUndoResult {
  config_path: string;
  restored: boolean;
  needs_confirmation: boolean;
  backup_path?: string;
  diff?: string;
  message?: string;
}

export interface ClientSnippet {
  client: string;
  snippet: string;
  command: string;
  config_path?: string;
  format?: string;
  url?: string;
  method?: string;
  token?: string;
  token_hint?: string;
  notes?: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** A live event from the backend hub (see backend/event.go). */
export interface LiveEvent {
  type: string;
  data: unknown;
}

// The connector form's model and its conversion to and from the API's
// connector JSON. Secrets follow the API's rules: a new value is sent as
// {"value": "..."}, a saved one is sent back unchanged to keep it, and null
// removes it. "${NAME}" values become environment references server-side.

import type { AuthType, Connector, Header, Policy, Secret, Transport } from './types';

/** A secret field of the form. */
export interface SecretInput {
  /** What is saved now (a keychain or env reference), if anything. */
  saved: Secret | null;
  /** A new value typed by the person; '' means none typed. */
  value: string;
  /** The person asked to remove the saved value. */
  cleared: boolean;
}

export interface HeaderRow {
  name: string;
  /** Plain value (when not secret). */
  value: string;
  secret: boolean;
  secretInput: SecretInput;
}

export interface ConnectorForm {
  id: string;
  name: string;
  slug: string;
  description: string;
  icon: string;
  url: string;
  transport: Transport;
  authType: AuthType;
  apiKeyIn: 'header' | 'query';
  apiKeyName: string;
  apiKeyPrefix: string;
  apiKey: SecretInput;
  oauthClientId: string;
  oauthClientSecret: SecretInput;
  oauthScopes: string;
  oauthIssuer: string;
  oauthAuthorizationURL: string;
  oauthTokenURL: string;
  oauthRevocationURL: string;
  oauthTokenAuthMethod: '' | 'client_secret_post' | 'client_secret_basic' | 'none';
  oauthDisablePKCE: boolean;
  oauthRedirectPorts: string;
  headers: HeaderRow[];
  defaultPolicy: Policy | '';
  callTimeoutSeconds: string;
}

export function secretInput(saved?: Secret | null): SecretInput {
  return { saved: saved && (saved.source || saved.key || saved.env) ? { ...saved } : null, value: '', cleared: false };
}

export function emptyForm(): ConnectorForm {
  return {
    id: '',
    name: '',
    slug: '',
    description: '',
    icon: '',
    url: '',
    transport: 'auto',
    authType: 'none',
    apiKeyIn: 'header',
    apiKeyName: 'Authorization',
    apiKeyPrefix: 'Bearer ',
    apiKey: secretInput(),
    oauthClientId: '',
    oauthClientSecret: secretInput(),
    oauthScopes: '',
    oauthIssuer: '',
    oauthAuthorizationURL: '',
    oauthTokenURL: '',
    oauthRevocationURL: '',
    oauthTokenAuthMethod: '',
    oauthDisablePKCE: false,
    oauthRedirectPorts: '',
    headers: [],
    defaultPolicy: '',
    callTimeoutSeconds: '',
  };
}

export function newHeaderRow(): HeaderRow {
  return { name: '', value: '', secret: false, secretInput: secretInput() };
}

/** toForm fills the form from a saved connector. */
export function toForm(c: Connector): ConnectorForm {
  const f = emptyForm();
  f.id = c.id;
  f.name = c.name;
  f.slug = c.slug ?? '';
  f.description = c.description ?? '';
  f.icon = c.icon ?? '';
  f.url = c.url;
  f.transport = c.transport || 'auto';
  f.authType = c.auth?.type || 'none';
  const k = c.auth?.api_key;
  if (k) {
    f.apiKeyIn = k.in || 'header';
    f.apiKeyName = k.name ?? '';
    f.apiKeyPrefix = k.prefix ?? '';
    f.apiKey = secretInput(k.value);
  } else if (f.authType !== 'api-key') {
    f.apiKeyName = 'Authorization';
    f.apiKeyPrefix = 'Bearer ';
  }
  const o = c.auth?.oauth;
  if (o) {
    f.oauthClientId = o.client_id ?? '';
    f.oauthClientSecret = secretInput(o.client_secret);
    f.oauthScopes = (o.scopes ?? []).join(' ');
    f.oauthIssuer = o.issuer ?? '';
    f.oauthAuthorizationURL = o.authorization_url ?? '';
    f.oauthTokenURL = o.token_url ?? '';
    f.oauthRevocationURL = o.revocation_url ?? '';
    f.oauthTokenAuthMethod = o.token_auth_method ?? '';
    f.oauthDisablePKCE = !!o.disable_pkce;
    f.oauthRedirectPorts = (o.redirect_ports ?? []).join(', ');
  }
  f.headers = (c.headers ?? []).map((h) => ({
    name: h.name,
    value: h.value ?? '',
    secret: !!h.secret,
    secretInput: secretInput(h.secret),
  }));
  f.defaultPolicy = c.default_policy ?? '';
  f.callTimeoutSeconds = c.call_timeout_seconds ? String(c.call_timeout_seconds) : '';
  return f;
}

/** secretOut is what the API should get for a secret field. */
export function secretOut(s: SecretInput): Secret | null {
  if (s.value !== '') return { value: s.value };
  if (s.saved && !s.cleared) return { ...s.saved };
  return null;
}

/** A problem the form finds before asking the API (it cannot send it). */
export interface LocalProblem {
  field: string;
  message: string;
}

/** parsePorts reads "8080, 8081" into numbers, reporting what is not a port. */
export function parsePorts(text: string): { ports: number[]; bad: string[] } {
  const ports: number[] = [];
  const bad: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    if (!part) continue;
    if (/^\d{1,5}$/.test(part)) ports.push(Number(part));
    else bad.push(part);
  }
  return { ports, bad };
}

/**
 * fromForm builds the connector JSON to send. Validation is the API's job
 * (its messages come back per field); only what JSON cannot carry (a port
 * that is not a number) is reported here.
 */
export function fromForm(f: ConnectorForm): { body: Partial<Connector>; problems: LocalProblem[] } {
  const problems: LocalProblem[] = [];
  const body: Partial<Connector> = {
    name: f.name,
    slug: f.slug.trim(),
    description: f.description,
    icon: f.icon,
    url: f.url,
    transport: f.transport,
    auth: { type: f.authType },
    headers: f.headers.map((h, i): Header => {
      if (!h.secret) return { name: h.name, value: h.value };
      const secret = secretOut(h.secretInput);
      if (!secret) problems.push({ field: `headers[${i}].secret`, message: 'type the secret value (or untick "Secret")' });
      return { name: h.name, secret };
    }),
    default_policy: f.defaultPolicy,
  };
  if (f.authType === 'api-key') {
    body.auth!.api_key = {
      in: f.apiKeyIn,
      name: f.apiKeyName,
      prefix: f.apiKeyIn === 'header' ? f.apiKeyPrefix : '',
      value: secretOut(f.apiKey),
    };
  }
  if (f.authType === 'oauth') {
    const { ports, bad } = parsePorts(f.oauthRedirectPorts);
    if (bad.length) {
      problems.push({
        field: 'auth.oauth.redirect_ports',
        message: `${bad.join(', ')}: not a port number (use numbers such as 8976, separated by commas)`,
      });
    }
    const scopes = f.oauthScopes.split(/\s+/).filter(Boolean);
    body.auth!.oauth = {
      client_id: f.oauthClientId || undefined,
      client_secret: secretOut(f.oauthClientSecret),
      scopes: scopes.length ? scopes : undefined,
      issuer: f.oauthIssuer || undefined,
      authorization_url: f.oauthAuthorizationURL || undefined,
      token_url: f.oauthTokenURL || undefined,
      revocation_url: f.oauthRevocationURL || undefined,
      token_auth_method: f.oauthTokenAuthMethod || undefined,
      disable_pkce: f.oauthDisablePKCE || undefined,
      redirect_ports: ports.length ? ports : undefined,
    };
  }
  const t = f.callTimeoutSeconds.trim();
  if (t !== '') {
    if (/^\d+$/.test(t)) body.call_timeout_seconds = Number(t);
    else problems.push({ field: 'call_timeout_seconds', message: 'must be a whole number of seconds' });
  }
  return { body, problems };
}

/** Fields the form shows messages next to; the rest go in the banner. */
export function fieldShownInline(field: string): boolean {
  return (
    /^(name|slug|description|icon|url|transport|default_policy|call_timeout_seconds)$/.test(field) ||
    /^auth\.(type|api_key(\.(in|name|prefix|value))?|oauth(\.[a-z_]+)?(\[\d+\])?)$/.test(field) ||
    /^headers(\[\d+\](\.(name|value|secret))?)?$/.test(field)
  );
}

// oauth-server.mjs: a real OAuth 2.x authorization server (oidc-provider)
// and an MCP resource server in front of an MCP server, for Patchbay's
// end-to-end OAuth tests (see backend/internal/testpeer/oauth.go).
//
// The authorization server logs in and consents by itself, requires PKCE,
// rotates refresh tokens, issues access tokens only for a resource named
// with RFC 8707 resource indicators, allows open dynamic client
// registration (RFC 7591, with RFC 7592 management), revocation and the
// RFC 9207 iss parameter. The resource server publishes RFC 9728 metadata,
// answers 401 with a WWW-Authenticate challenge, checks each token's
// audience and scope, answers insufficient_scope for a step-up tool, and
// proxies everything else (streams included) to the upstream MCP server.
//
// Configuration is one JSON object in PATCHBAY_OAUTH_CONFIG:
//   {issuerPort, rsPort, upstream, resourcePath, accessTTL, clients,
//    stepUpTool, stepUpScope, registration}
// Test hooks under /test/ on the resource server: GET /test/stats,
// POST /test/revoke (revoke every grant), POST /test/deny (the next sign-in
// is refused with access_denied).

import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const cfg = JSON.parse(process.env.PATCHBAY_OAUTH_CONFIG || '{}');
const issuer = `http://127.0.0.1:${cfg.issuerPort}`;
const rsOrigin = `http://127.0.0.1:${cfg.rsPort}`;
const resource = rsOrigin + (cfg.resourcePath || '/mcp');
const upstream = new URL(cfg.upstream);
const baseScope = 'mcp:tools';
const stepUpScope = cfg.stepUpScope || 'mcp:admin';
const accessTTL = cfg.accessTTL || 3600;

const stats = {
  registrations: 0,
  grants: {},                 // grant_type → successful token requests
  refresh_without_resource: 0,
  basic_auth: 0,              // token requests authenticated with HTTP Basic
  body_secret: 0,             // token requests with client_secret in the body
  revocations: 0,
  authorizations_without_resource: 0,
  authorizations_without_pkce: 0,
  rejected_tokens: 0,
};
const grantIds = new Set();
let denyNext = false;

const provider = new Provider(issuer, {
  clients: (cfg.clients || []).map((c) => ({
    client_id: c.id,
    ...(c.secret ? { client_secret: c.secret } : {}),
    token_endpoint_auth_method: c.authMethod || 'none',
    redirect_uris: c.redirectURIs,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  })),
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  scopes: ['openid', 'offline_access', baseScope, stepUpScope],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: cfg.registration !== false },
    registrationManagement: { enabled: cfg.registration !== false },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return { scope: `${baseScope} ${stepUpScope}`, audience: resource, accessTokenTTL: accessTTL, accessTokenFormat: 'opaque' };
      },
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: accessTTL, AuthorizationCode: 60, RefreshToken: 86400, Grant: 86400, Session: 86400, Interaction: 600, IdToken: 3600 },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['patchbay-test-cookie-key'] },
});

provider.on('registration_create.success', () => { stats.registrations++; });
provider.on('grant.success', (ctx) => {
  const gt = ctx.oidc.params.grant_type;
  stats.grants[gt] = (stats.grants[gt] || 0) + 1;
  if (gt === 'refresh_token' && !ctx.oidc.params.resource) stats.refresh_without_resource++;
  if ((ctx.headers.authorization || '').startsWith('Basic ')) stats.basic_auth++;
  if (ctx.oidc.body && ctx.oidc.body.client_secret) stats.body_secret++;
});
provider.on('access_token.saved', (token) => { if (token.grantId) grantIds.add(token.grantId); });
provider.on('grant.revoked', () => { stats.revocations++; });

// interaction logs in and consents without asking anyone.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  if (denyNext) {
    denyNext = false;
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The test server refused this sign-in.' });
  }
  if (prompt.name === 'login') {
    return provider.interactionFinished(req, res, { login: { accountId: 'patchbay-test-user' } }, { mergeWithLastSubmission: false });
  }
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  if (d.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
  }
  const id = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
}

const providerHandler = provider.callback();
http.createServer((req, res) => {
  // Authorization requests are counted as they arrive: the provider turns
  // one without PKCE away before any event of its own would count it.
  let url;
  try { url = new URL(req.url, issuer); } catch { /* left to the provider */ }
  if (url && url.pathname === '/auth') {
    if (!url.searchParams.get('resource')) stats.authorizations_without_resource++;
    if (!url.searchParams.get('code_challenge') || url.searchParams.get('code_challenge_method') !== 'S256') stats.authorizations_without_pkce++;
  }
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  providerHandler(req, res);
}).listen(cfg.issuerPort, '127.0.0.1');

const metadataPath = '/.well-known/oauth-protected-resource' + (cfg.resourcePath || '/mcp');
const challenge = (extra) => `Bearer resource_metadata="${rsOrigin}${metadataPath}"${extra}`;

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function revokeAll() {
  for (const id of grantIds) {
    await provider.AccessToken.revokeByGrantId(id);
    await provider.RefreshToken.revokeByGrantId(id);
    await provider.Grant.adapter.destroy(id);
  }
  grantIds.clear();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// calledTool returns the tool a JSON-RPC tools/call body calls, if any.
function calledTool(body) {
  try {
    const msg = JSON.parse(body.toString('utf8'));
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      if (m && m.method === 'tools/call') return m.params && m.params.name;
    }
  } catch { /* not JSON */ }
  return undefined;
}

http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, rsOrigin);
    if (url.pathname === metadataPath) {
      return json(res, 200, { resource, authorization_servers: [issuer], scopes_supported: [baseScope], bearer_methods_supported: ['header'], resource_name: 'Patchbay test resource' });
    }
    if (url.pathname.startsWith('/.well-known/')) return json(res, 404, { error: 'not_found' });
    if (url.pathname === '/test/stats') return json(res, 200, stats);
    if (url.pathname === '/test/revoke' && req.method === 'POST') {
      await revokeAll();
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/test/deny' && req.method === 'POST') {
      denyNext = true;
      return json(res, 200, { ok: true });
    }

    const m = /^Bearer (.+)$/i.exec(req.headers.authorization || '');
    if (!m) return json(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': challenge(`, scope="${baseScope}"`) });
    const token = await provider.AccessToken.find(m[1]);
    const aud = token && [token.aud].flat();
    if (!token || token.isExpired || !aud.includes(resource)) {
      stats.rejected_tokens++;
      return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': challenge(', error="invalid_token"') });
    }
    const scopes = new Set((token.scope || '').split(' '));
    const body = await readBody(req);
    if (cfg.stepUpTool && calledTool(body) === cfg.stepUpTool && !scopes.has(stepUpScope)) {
      return json(res, 403, { error: 'insufficient_scope' }, { 'WWW-Authenticate': challenge(`, error="insufficient_scope", scope="${baseScope} ${stepUpScope}"`) });
    }

    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      res.flushHeaders(); // event streams send their headers before any event
      ur.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) json(res, 502, { error: String(err) });
      else res.destroy();
    });
    res.on('close', () => up.destroy());
    up.end(body);
  } catch (err) {
    if (!res.headersSent) json(res, 500, { error: String(err) });
  }
}).listen(cfg.rsPort, '127.0.0.1');

process.stderr.write(`oauth-server: issuer ${issuer}, resource ${resource}\n`);

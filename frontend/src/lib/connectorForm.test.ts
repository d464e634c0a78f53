import { describe, expect, it } from 'vitest';
import { emptyForm, fieldShownInline, fromForm, newHeaderRow, toForm } from './connectorForm';
import type { Connector } from './types';

const saved: Connector = {
  id: 'c_1',
  name: 'Docs',
  slug: 'docs',
  url: 'https://docs.example/mcp',
  transport: 'auto',
  auth: {
    type: 'api-key',
    api_key: { in: 'header', name: 'X-API-Key', value: { source: 'keychain', key: 'connector/c_1/api-key/v1' } },
  },
  headers: [
    { name: 'X-Tenant', value: 'acme' },
    { name: 'X-Secret', secret: { source: 'env', env: 'DOCS_SECRET' } },
  ],
};

describe('connector form', () => {
  it('sends a saved secret back unchanged to keep it', () => {
    const { body, problems } = fromForm(toForm(saved));
    expect(problems).toEqual([]);
    expect(body.auth?.api_key?.value).toEqual({ source: 'keychain', key: 'connector/c_1/api-key/v1' });
    expect(body.headers).toEqual([
      { name: 'X-Tenant', value: 'acme' },
      { name: 'X-Secret', secret: { source: 'env', env: 'DOCS_SECRET' } },
    ]);
  });

  it('sends a new value, or null to remove', () => {
    const f = toForm(saved);
    f.apiKey.value = 'sk-new';
    f.headers[1].secretInput.cleared = true;
    const { body, problems } = fromForm(f);
    expect(body.auth?.api_key?.value).toEqual({ value: 'sk-new' });
    expect(problems).toEqual([{ field: 'headers[1].secret', message: expect.stringMatching(/secret value/) }]);
    f.authType = 'none';
    expect(fromForm(f).body.auth).toEqual({ type: 'none' });
  });

  it('reads OAuth scopes and ports, reporting ports that are not numbers', () => {
    const f = emptyForm();
    f.authType = 'oauth';
    f.oauthScopes = ' read  write ';
    f.oauthRedirectPorts = '8976, 8977 x9';
    const { body, problems } = fromForm(f);
    expect(body.auth?.oauth?.scopes).toEqual(['read', 'write']);
    expect(body.auth?.oauth?.redirect_ports).toEqual([8976, 8977]);
    expect(problems[0].field).toBe('auth.oauth.redirect_ports');
    expect(body.auth?.api_key).toBeUndefined();
  });

  it('sends a new secret header as a secret', () => {
    const f = emptyForm();
    const h = newHeaderRow();
    h.name = 'Authorization';
    h.secret = true;
    h.secretInput.value = 'Bearer x';
    f.headers.push(h);
    expect(fromForm(f).body.headers).toEqual([{ name: 'Authorization', secret: { value: 'Bearer x' } }]);
  });

  it('knows which field errors it shows next to a field', () => {
    for (const f of ['name', 'url', 'auth.api_key.name', 'auth.oauth.scopes[2]', 'headers[1].name', 'headers[0]']) {
      expect(fieldShownInline(f), f).toBe(true);
    }
    expect(fieldShownInline('something.else')).toBe(false);
  });
});

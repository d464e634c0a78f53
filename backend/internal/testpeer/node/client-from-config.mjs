// client-from-config connects the TypeScript SDK's MCP client to a server
// configured exactly as a desktop client's configuration file says, the way
// that client would: an HTTP entry (Cursor's "url", VS Code's "type":"http"
// + "url") with its "headers" over Streamable HTTP, or a stdio entry
// (Claude Desktop's "command" + "args" + "env") launched as a child process.
// It lists the tools, calls one, and prints
//
//   {"tools": [names…], "result": CallToolResult}
//
// on stdout. Patchbay's clients tests use it to prove that what they write
// works with a real client that is not go-sdk.
//
// usage: node client-from-config.mjs CONFIG_FILE CONTAINER ENTRY TOOL ARGS_JSON
//
// A stdio child gets the SDK's default environment (HOME, PATH, USER, …)
// plus the session-bus variables any desktop app has (the keychain is
// reached through them on Linux) plus the entry's own "env" — and nothing
// else, so an entry that only works because of the test's environment
// fails here.
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

const [file, container, name, tool, argsJSON] = process.argv.slice(2);
if (!tool) {
  console.error('usage: node client-from-config.mjs CONFIG_FILE CONTAINER ENTRY TOOL ARGS_JSON');
  process.exit(2);
}
const config = JSON.parse(readFileSync(file, 'utf8'));
const entry = config?.[container]?.[name];
if (!entry) {
  console.error(`no entry ${container}.${name} in ${file}`);
  process.exit(2);
}

let transport;
if (entry.command) {
  const env = getDefaultEnvironment();
  for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR']) {
    if (process.env[k]) env[k] = process.env[k];
  }
  transport = new StdioClientTransport({
    command: entry.command,
    args: entry.args ?? [],
    env: { ...env, ...(entry.env ?? {}) },
    stderr: 'inherit',
  });
} else if (entry.url && (entry.type === undefined || entry.type === 'http')) {
  transport = new StreamableHTTPClientTransport(new URL(entry.url), {
    requestInit: { headers: entry.headers ?? {} },
  });
} else {
  console.error(`entry ${name} is neither a stdio nor an HTTP server: ${JSON.stringify(Object.keys(entry))}`);
  process.exit(2);
}

const client = new Client({ name: 'patchbay-clients-test', version: '1.0.0' });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(argsJSON || '{}') });
  process.stdout.write(JSON.stringify({ tools: tools.map((t) => t.name), result }) + '\n');
  await client.close();
} catch (err) {
  console.error(`client error: ${err?.message ?? err}`);
  await client.close().catch(() => {});
  process.exit(1);
}

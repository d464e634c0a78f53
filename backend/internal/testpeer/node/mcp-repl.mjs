// mcp-repl drives the TypeScript SDK's MCP client for Patchbay's Go tests:
// a client that is not go-sdk, so that an interop bug cannot hide on both
// sides of the wire at once.
//
// Commands arrive on stdin, one JSON object per line, each with an "id";
// every answer is one JSON line on stdout with the same "id". Commands run
// concurrently (a call waiting for an approval does not hold up the next
// command). Notifications are reported as {"event": …} lines.
//
//   {"id":1,"op":"connect","url":URL,"headers":{…}}              Streamable HTTP
//   {"id":1,"op":"connect","command":BIN,"args":[…],"env":{…}}   stdio (a child process)
//       → {"id":1,"ok":true,"server":{name,version},"protocol":…}
//   {"id":2,"op":"list"}               → {"id":2,"tools":[Tool…]} (all pages)
//   {"id":3,"op":"call","name":N,"arguments":{…},"progress":true,"abortAfterMs":n}
//       → {"id":3,"result":CallToolResult} or {"id":3,"error":message,"code":n}
//   {"id":4,"op":"close"}              → {"id":4,"ok":true}; the process exits
//
//   events: {"event":"tools_list_changed"}, {"event":"progress","params":…},
//           {"event":"stderr","text":…} (stdio child), {"event":"error","text":…}
import readline from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let client;
let transport;

async function connect(cmd) {
  client = new Client({ name: cmd.clientName ?? 'ts-sdk-e2e', version: '1.32.2' }, { capabilities: {} });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => out({ event: 'tools_list_changed' }));
  if (cmd.command) {
    const env = getDefaultEnvironment();
    for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'XDG_RUNTIME_DIR', 'PATCHBAY_PRIVATE_KEYRING']) {
      if (process.env[k]) env[k] = process.env[k];
    }
    transport = new StdioClientTransport({ command: cmd.command, args: cmd.args ?? [], env: { ...env, ...(cmd.env ?? {}) }, stderr: 'pipe' });
    transport.stderr?.on('data', (d) => out({ event: 'stderr', text: d.toString() }));
  } else {
    transport = new StreamableHTTPClientTransport(new URL(cmd.url), { requestInit: { headers: cmd.headers ?? {} } });
  }
  transport.onerror = (e) => out({ event: 'error', text: String(e?.message ?? e) });
  await client.connect(transport);
  return { ok: true, server: client.getServerVersion(), protocol: transport.protocolVersion ?? null };
}

async function list() {
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return { tools };
}

async function call(cmd) {
  const opts = { timeout: 600000 };
  if (cmd.progress) {
    opts.onprogress = (p) => out({ event: 'progress', id: cmd.id, params: p });
    opts.resetTimeoutOnProgress = true;
  }
  if (cmd.abortAfterMs) {
    const ac = new AbortController();
    setTimeout(() => ac.abort('test aborts'), cmd.abortAfterMs);
    opts.signal = ac.signal;
  }
  const result = await client.callTool({ name: cmd.name, arguments: cmd.arguments ?? {} }, undefined, opts);
  return { result };
}

async function run(cmd) {
  try {
    switch (cmd.op) {
      case 'connect': return out({ id: cmd.id, ...(await connect(cmd)) });
      case 'list': return out({ id: cmd.id, ...(await list()) });
      case 'call': return out({ id: cmd.id, ...(await call(cmd)) });
      case 'close':
        await client?.close().catch(() => {});
        out({ id: cmd.id, ok: true });
        process.exit(0);
      default: return out({ id: cmd.id, error: `unknown op ${cmd.op}` });
    }
  } catch (err) {
    out({ id: cmd.id, error: String(err?.message ?? err), code: err?.code ?? null });
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim()) run(JSON.parse(line));
});
rl.on('close', async () => {
  await client?.close().catch(() => {});
  process.exit(0);
});

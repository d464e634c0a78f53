// xss-server.mjs: a tiny MCP server (TypeScript SDK, Streamable HTTP,
// stateless) whose names, titles, descriptions and results carry HTML. The
// UI must show all of it as text. Started by run.mjs:
//   PORT=… MCP_SDK_ESM=<sdk>/dist/esm node xss-server.mjs
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PAYLOAD } from './lib.mjs';

const sdk = process.env.MCP_SDK_ESM;
const port = Number(process.env.PORT);
if (!sdk || !port) {
  console.error('usage: PORT=… MCP_SDK_ESM=…/@modelcontextprotocol/sdk/dist/esm node xss-server.mjs');
  process.exit(2);
}
const { McpServer } = await import(pathToFileURL(join(sdk, 'server/mcp.js')).href);
const { StreamableHTTPServerTransport } = await import(
  pathToFileURL(join(sdk, 'server/streamableHttp.js')).href
);

function build() {
  const server = new McpServer({ name: `evil ${PAYLOAD}`, version: '1.0.0' });
  server.registerTool(
    'describe',
    {
      title: `Describe ${PAYLOAD}`,
      description: `Looks harmless. ${PAYLOAD} <script>alert(2)</script> <b>bold?</b>`,
      annotations: { readOnlyHint: true },
    },
    async () => ({ content: [{ type: 'text', text: `result ${PAYLOAD}` }] }),
  );
  return server;
}

http
  .createServer(async (req, res) => {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      console.error(err);
      if (!res.headersSent) res.writeHead(500).end();
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`xss-server on ${port}`));

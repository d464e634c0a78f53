// Package gateway is Patchbay's localhost MCP endpoint: the one address
// desktop AI clients connect to, serving the tools of the person's
// connectors under the rules the person set.
//
// Each conversation (/mcp is the default one, /mcp/<slug> any other) is
// one *mcp.Server whose tool set is the enabled connectors' callable tools,
// named "<connector slug>_<tool>" (see exposedNames). The set is rebuilt
// from the store whenever the registry or the upstream manager announces a
// change on the event hub, by diffing and calling AddTool/RemoveTools, so
// go-sdk sends notifications/tools/list_changed to exactly the sessions of
// that conversation. Listing never waits on a connector: tools come from
// the store; only a connector that has never been listed is waited for,
// briefly and in parallel with the others.
//
// Both protocol eras are served on the same paths. Requests that declare
// protocol 2026-07-28 or later (Mcp-Protocol-Version) go to a stateless
// go-sdk handler (list changes travel on subscriptions/listen); all others
// go to a stateful one (initialize, Mcp-Session-Id, list changes on the GET
// stream). A stateful handler answers a new-era request it cannot serve
// with the legacy versions it knows, which is how new clients fall back.
// go-sdk keys sessions by id alone, so every session is bound to the token
// and the conversation path it was opened with (the TokenInfo user id):
// used anywhere else, it is refused.
//
// Every request needs a client token (Authorization: Bearer pbt_…),
// checked against the stored hashes in constant time; Host and Origin are
// checked first, as for the admin API (package loopback). Every call goes
// through one gate (call.go), which decides from the current state —
// never from what a client was shown — whether the tool may run, asks a
// person when its policy says so (Approvals), forwards it upstream with
// progress and cancellation, caps huge results, and records the call in
// the activity log off the call path (recorder), with secrets redacted.
package gateway

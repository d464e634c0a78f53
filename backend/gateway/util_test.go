package gateway_test

import (
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func toolParams(name string, args any) *mcp.CallToolParams {
	return &mcp.CallToolParams{Name: name, Arguments: args}
}

// sleep waits a little between polls of a condition (never as an assertion).
func sleep() { time.Sleep(20 * time.Millisecond) }

//go:build desktop && !headless

package app

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// HasWindow reports whether this binary was built with the desktop window.
const HasWindow = true

// RunWindow runs the desktop app: the backend with its loopback listener
// (the MCP endpoint keeps serving while the window is hidden) and a Wails
// window whose UI talks to the admin API in-process.
func RunWindow(ctx context.Context, o Options, frontend fs.FS) error {
	o.NeedAdminToken = true
	core, err := Open(ctx, o)
	if err != nil {
		return err
	}
	defer core.Close()
	l, err := core.Listen(ListenOptions{})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l.Shutdown(sctx)
	}()
	var wctx context.Context
	return wails.Run(&options.App{
		Title:     "Patchbay",
		Width:     1180,
		Height:    780,
		MinWidth:  760,
		MinHeight: 520,
		AssetServer: &assetserver.Options{
			Assets:  frontend,
			Handler: core.API.InProcessHandler(),
		},
		HideWindowOnClose: true,
		SingleInstanceLock: &options.SingleInstanceLock{
			UniqueId: "dev.patchbay.app",
			OnSecondInstanceLaunch: func(options.SecondInstanceData) {
				if wctx != nil {
					wruntime.WindowUnminimise(wctx)
					wruntime.WindowShow(wctx)
				}
			},
		},
		OnStartup: func(c context.Context) {
			wctx = c
			core.Log.Info(fmt.Sprintf("Patchbay window ready; endpoint %s/mcp", core.BaseURL()))
		},
	})
}

//go:build windows

package app

import "os"

// processAlive reports whether a process with pid exists: on Windows,
// FindProcess opens a handle and fails when there is no such process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

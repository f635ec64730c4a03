//go:build webdist

package web

import (
	"embed"
	"io/fs"
)

// all: keeps files whose names start with "_" or "." (Vite emits chunks such as _plugin-vue.js).
//
//go:embed all:dist
var dist embed.FS

// Dist is the built web apps: one directory per app (site, student, courier, admin, platform).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub fails only for invalid ones
	}
	return sub
}

// Built reports whether the web apps are embedded in this binary.
func Built() bool { return true }

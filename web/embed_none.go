//go:build !webdist

package web

import (
	"embed"
	"io/fs"
)

// empty is the zero embed.FS: a valid file system with no files.
var empty embed.FS

// Dist is empty: this binary was built without the webdist tag (make build adds it once
// web/dist exists), so the server answers web paths with a page saying how to build them.
func Dist() fs.FS { return empty }

// Built reports whether the web apps are embedded in this binary.
func Built() bool { return false }

// Package web holds the browser apps' build output for the binary: the Vite apps under
// web/apps are built into web/dist/<app>/ (make web), and a build with the webdist tag embeds
// that directory (make build adds the tag when web/dist exists). internal/webapp serves it.
package web

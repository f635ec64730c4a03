// Package config owns Paotui's typed configuration: the embedded defaults from
// configs/paotui.yaml, an optional file on top, PAOTUI_* environment overrides, and validation
// that names the offending key.
package config

// Package storage owns where uploaded files (delivery photos, later documents) are kept: one
// small Store interface with a Local driver (a directory, for development and single-server
// installs) and an S3 driver (any S3-compatible service through minio-go), chosen from
// config.Storage by Open.
//
// Keys are slash-separated paths that callers build from ids they control
// ("t/<tenant>/orders/<order>/<photo>.png"). Every driver checks them with ValidKey first, so a
// key can never leave the driver's directory or bucket prefix whatever reaches it. Stores hold
// bytes and a content type only; who may read a file is the calling domain's decision, and
// files are served through the API, never from a public bucket.
package storage

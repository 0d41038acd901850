// Package assets embeds the browser admin's templates and static files, so
// that the one binary serves them offline with nothing from a CDN.
package assets

import "embed"

// FS holds static/ (served under /static/) and templates/ (parsed once at
// start-up).
//
//go:embed static templates
var FS embed.FS

// Package ui holds weir's web interface. The interface is a TypeScript
// application under this directory that `make ui` builds into dist/; the
// files in dist/ are embedded into the weir binary and served by weir
// server. Without a build, dist/ holds only a placeholder page (see
// README.md).
package ui

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// App is the file name of the built application's page in Files. When it
// is absent, the interface was not built and Placeholder is served
// instead.
const App = "app.html"

// Placeholder is the committed page that says the interface is not built.
const Placeholder = "index.html"

// Files returns the embedded contents of dist/.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: fs.Sub cannot fail
	}
	return sub
}

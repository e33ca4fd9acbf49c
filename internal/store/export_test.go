package store

import (
	"os"
	"strings"
	"testing"
)

// NoSeedFiles fails t if dir holds a temporary file of seedSQLite.
func NoSeedFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".seed-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

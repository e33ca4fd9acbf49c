package artifact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDigestDependsOnContentNotLocation(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write(t, filepath.Join(a, "x.csv"), "1,2\n")
	write(t, filepath.Join(b, "elsewhere", "y.csv"), "1,2\n")
	da, na, err := Digest(filepath.Join(a, "x.csv"))
	if err != nil {
		t.Fatal(err)
	}
	db, _, _ := Digest(filepath.Join(b, "elsewhere", "y.csv"))
	if da != db || na != 4 || !strings.HasPrefix(da, "sha256:") {
		t.Errorf("digests %s %s size %d", da, db, na)
	}
	write(t, filepath.Join(b, "z.csv"), "1,3\n")
	if dz, _, _ := Digest(filepath.Join(b, "z.csv")); dz == da {
		t.Error("different content, same digest")
	}
}

func TestDigestOfDirectories(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		write(t, filepath.Join(d, "m", "weights.bin"), "w")
		write(t, filepath.Join(d, "m", "cfg", "c.json"), "{}")
	}
	da, n, err := Digest(filepath.Join(a, "m"))
	if err != nil {
		t.Fatal(err)
	}
	db, _, _ := Digest(filepath.Join(b, "m"))
	if da != db || n != 3 {
		t.Errorf("same trees: %s vs %s, size %d", da, db, n)
	}
	// Renaming a file inside changes the digest even with equal bytes.
	if err := os.Rename(filepath.Join(b, "m", "weights.bin"), filepath.Join(b, "m", "w2.bin")); err != nil {
		t.Fatal(err)
	}
	if d2, _, _ := Digest(filepath.Join(b, "m")); d2 == da {
		t.Error("renamed file, same digest")
	}
}

func TestDigestMissing(t *testing.T) {
	d, n, err := Digest(filepath.Join(t.TempDir(), "nope"))
	if d != "" || n != 0 || err != nil {
		t.Errorf("missing path: %q %d %v", d, n, err)
	}
}

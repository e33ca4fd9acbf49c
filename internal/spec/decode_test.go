package spec

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from golden:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestDecodeGolden decodes pipelines compiled by the kfp SDK (sources in
// testdata/src) and compares weir's model of them with golden files.
func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, warns, err := Decode(filepath.Base(f), data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			out := struct {
				Warnings  []string        `json:"warnings"`
				Platforms json.RawMessage `json:"platforms,omitempty"`
				Pipeline  *Pipeline       `json:"pipeline"`
			}{Pipeline: p, Platforms: p.Platforms}
			for _, w := range warns {
				out.Warnings = append(out.Warnings, w.String())
			}
			b, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".json", append(b, '\n'))
		})
	}
}

// TestDecodeInvalid checks that each broken pipeline fails validation with an
// error naming the file and the field path.
func TestDecodeInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Decode(filepath.Base(f), data)
			if err == nil {
				t.Fatal("decode succeeded, want a validation error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				line = strings.TrimSpace(line)
				if strings.HasSuffix(line, "problems:") {
					continue
				}
				if !strings.HasPrefix(line, filepath.Base(f)+": ") {
					t.Errorf("error line does not name the file: %q", line)
				}
			}
			golden(t, "invalid/"+name+".err", []byte(err.Error()+"\n"))
		})
	}
}

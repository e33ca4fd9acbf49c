// Package artifact deals with artifact content: digests that identify it
// independently of where it is stored.
package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Digest returns "sha256:<hex>" of the content at path and its size. A file
// hashes its bytes; a directory hashes, in path order, each regular file's
// relative path, size and bytes, so two trees with the same files have the
// same digest wherever they live. A missing path returns ("", 0, nil).
func Digest(path string) (string, int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("digest %s: %w", path, err)
	}
	h := sha256.New()
	if !fi.IsDir() {
		n, err := hashFile(h, path)
		if err != nil {
			return "", 0, fmt.Errorf("digest %s: %w", path, err)
		}
		return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("digest %s: %w", path, err)
	}
	sort.Strings(files)
	var total int64
	for _, f := range files {
		rel, _ := filepath.Rel(path, f)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		sub := sha256.New()
		n, err := hashFile(sub, f)
		if err != nil {
			return "", 0, fmt.Errorf("digest %s: %w", path, err)
		}
		fmt.Fprintf(h, "%d\x00%x\x00", n, sub.Sum(nil))
		total += n
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), total, nil
}

func hashFile(w io.Writer, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

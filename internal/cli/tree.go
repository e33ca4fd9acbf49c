package cli

import (
	"strconv"
	"strings"
)

// loopOf returns the path of the outermost loop a path is inside of.
func loopOf(path string) (string, bool) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if _, err := strconv.Atoi(s); err == nil && i > 0 {
			return strings.Join(segs[:i], "/"), true
		}
	}
	return "", false
}

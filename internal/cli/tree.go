package cli

import (
	"strconv"
	"strings"
)

// lessPath orders task paths as a tree: a parent before its children,
// siblings by name, loop iterations by number.
func lessPath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		na, ea := strconv.Atoi(as[i])
		nb, eb := strconv.Atoi(bs[i])
		if ea == nil && eb == nil {
			return na < nb
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

// insideIteration reports whether a path is a loop iteration or lies
// inside one; iterationOf returns the loop's path for such paths.
func insideIteration(path string) bool {
	_, ok := loopOf(path)
	return ok
}

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

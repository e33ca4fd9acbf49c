//go:build !linux

package engine

import (
	"errors"
	"fmt"
)

// markHierarchyTop is a Linux (ext2/3/4) placement hint; elsewhere there is
// nothing to do.
func markHierarchyTop(dir string) error {
	return fmt.Errorf("mark %s: %w", dir, errors.ErrUnsupported)
}

func hierarchyTop(dir string) (bool, error) {
	return false, fmt.Errorf("mark %s: %w", dir, errors.ErrUnsupported)
}

package engine

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// fsTopDirFlag is FS_TOPDIR_FL of <linux/fs.h> (chattr +T): the directory
// is the top of directory hierarchies, for ext2/3/4's Orlov allocator.
const fsTopDirFlag = 0x00020000

// markHierarchyTop tells the filesystem that each directory created in dir
// starts a hierarchy of its own. ext4 then places each such directory (one
// per run under runs/) in a block group with room to spare, instead of the
// group of dir itself, and everything created inside it follows. Without
// this, after many files near dir were deleted, ext4 without a journal
// (which does not reuse an inode freed in the last few minutes) scans past
// every freed inode for each new directory and file: creating an attempt's
// work directory and log went from 0.05 to 0.4 ms.
//
// It returns errors.ErrUnsupported on filesystems without the flag
// (tmpfs, xfs, btrfs, ...), where nothing needs doing.
func markHierarchyTop(dir string) error {
	return withDirFlags(dir, func(fd int, flags uint32) error {
		if flags&fsTopDirFlag != 0 {
			return nil
		}
		return unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsTopDirFlag))
	})
}

// hierarchyTop reports whether dir carries the flag markHierarchyTop sets.
func hierarchyTop(dir string) (top bool, err error) {
	err = withDirFlags(dir, func(_ int, flags uint32) error {
		top = flags&fsTopDirFlag != 0
		return nil
	})
	return top, err
}

// withDirFlags opens directory dir, reads its inode flags and calls f with
// the descriptor and the flags; errors of a filesystem without them come
// back as errors.ErrUnsupported.
func withDirFlags(dir string, f func(fd int, flags uint32) error) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mark %s: %w", dir, err)
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err == nil {
		err = f(fd, flags)
	}
	if err != nil {
		return unsupportedFlags(dir, err)
	}
	return nil
}

// unsupportedFlags maps the errors of a filesystem without inode flags, or
// without this one, to errors.ErrUnsupported.
func unsupportedFlags(dir string, err error) error {
	switch err {
	case unix.ENOTTY, unix.EOPNOTSUPP, unix.EINVAL:
		return fmt.Errorf("mark %s: %w (%w)", dir, errors.ErrUnsupported, err)
	}
	return fmt.Errorf("mark %s: %w", dir, err)
}

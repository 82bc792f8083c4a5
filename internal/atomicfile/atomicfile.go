// Package atomicfile writes a file so that it is there whole or not at all:
// through a temporary file beside it, synced, then renamed over it.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// TmpSuffix ends the name of the temporary file Write writes first (path
// plus TmpSuffix); one left by a crash may be removed.
const TmpSuffix = ".tmp"

// Write writes path with what fill writes, with permissions perm. The file
// is written and synced under a temporary name, renamed over path, and the
// directory synced, so that a crash leaves either the old file or the new
// one. On error the temporary file is removed and path is as it was.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp := path + TmpSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	SyncDir(filepath.Dir(path))
	return nil
}

// SyncDir makes a rename in dir durable. It is best effort: not every file
// system can sync a directory.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

//go:build linux || darwin || freebsd

package storage

import "syscall"

// freeSpace is the space on dir's filesystem that an unprivileged process
// may still use.
func freeSpace(dir string) (free uint64, ok bool, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true, nil
}

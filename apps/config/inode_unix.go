//go:build unix

package config

import (
	"io/fs"
	"strconv"
	"syscall"
)

// inode is %i when the file system reports a unix stat (os.DirFS does; fstest.MapFS not).
func inode(fi fs.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return strconv.FormatUint(uint64(st.Ino), 10)
	}
	return ""
}

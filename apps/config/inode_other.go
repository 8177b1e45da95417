//go:build !unix

package config

import "io/fs"

// inode is unknown off unix: %i then has no value.
func inode(fs.FileInfo) string { return "" }

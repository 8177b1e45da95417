package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrCookie: the cookie file is unusable, as erl's auth would refuse it.
var ErrCookie = errors.New("node: cookie")

// ReadCookie finds the cookie as erl's auth does (erlang-dist.md §2.6):
// $HOME/.erlang.cookie, then $XDG_CONFIG_HOME/erlang/.erlang.cookie, else a new
// $HOME/.erlang.cookie of 20 random capitals with mode 0400.
func ReadCookie() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrCookie, err)
	}
	primary := filepath.Join(home, ".erlang.cookie")
	candidates := []string{primary}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	candidates = append(candidates, filepath.Join(xdg, "erlang", ".erlang.cookie"))
	for _, p := range candidates {
		c, err := readCookieFile(p)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return createCookie(primary)
}

func readCookieFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file", ErrCookie, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: cookie file %s must be accessible by owner only", ErrCookie, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrCookie, err)
	}
	i := 0
	for i < len(b) && b[i] >= 0x20 && b[i] <= 0x7E {
		i++
	}
	for _, c := range b[i:] {
		if c != '\n' && c != '\r' && c != ' ' {
			return "", fmt.Errorf("%w: bad characters in cookie %s", ErrCookie, path)
		}
	}
	cookie := string(b[:i])
	for len(cookie) > 0 && cookie[len(cookie)-1] == ' ' {
		cookie = cookie[:len(cookie)-1]
	}
	if cookie == "" {
		return "", fmt.Errorf("%w: too short cookie string in %s", ErrCookie, path)
	}
	return cookie, nil
}

func createCookie(path string) (string, error) {
	var r [20]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("%w: %s", ErrCookie, err)
	}
	for i := range r {
		r[i] = 'A' + r[i]%26
	}
	if err := os.WriteFile(path, r[:], 0o400); err != nil {
		return "", fmt.Errorf("%w: create %s: %s", ErrCookie, path, err)
	}
	midnight := time.Now().Truncate(24 * time.Hour)
	os.Chtimes(path, midnight, midnight)
	return string(r[:]), nil
}

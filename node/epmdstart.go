package node

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"imperial/node/epmd"
)

// startEPMD does what erl does when no epmd answers: it runs `epmd -daemon`, so
// the port mapper outlives this node and serves the other nodes of the host. It
// reports whether an epmd answers afterwards; when none does, the registrar
// serves an embedded one.
func startEPMD(port int) bool {
	if port == 0 {
		port = epmd.DefaultPort
		if v, err := strconv.Atoi(os.Getenv(epmd.EnvPort)); err == nil && v > 0 {
			port = v
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	answers := func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	if answers() {
		return true
	}
	bin, err := exec.LookPath("epmd")
	if err != nil {
		return false
	}
	cmd := exec.Command(bin, "-daemon", "-port", strconv.Itoa(port))
	if cmd.Run() != nil {
		return false
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if answers() {
			return true
		}
	}
	return false
}

package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartNginx runs a real nginx on a free loopback port with one server block
// whose body is locations (uwsgi_params is included from the system's copy).
// It returns the "127.0.0.1:PORT" it listens on; nginx is stopped in
// t.Cleanup.
func StartNginx(t testing.TB, locations string) string {
	t.Helper()
	bin := Require(t, "nginx")
	dir := t.TempDir()
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	if err != nil {
		t.Fatalf("nginx uwsgi_params: %v (run rel/scripts/install-peers.sh)", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "uwsgi_params"), params, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s;
		%[3]s
	}
}
`, dir, addr, locations)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Start(t, nil, bin, "-p", dir, "-c", path)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s\noutput:\n%s", log, c.Output())
		}
	})
	WaitFor(t, 10*time.Second, func() error { return Accepts(addr) })
	return addr
}

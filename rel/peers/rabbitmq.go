package peers

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RabbitMQ is a throw-away RabbitMQ node on 127.0.0.1: its own node name,
// AMQP and distribution ports, and everything (mnesia, logs, config, cookie)
// in a temporary directory; run as the rabbitmq account when the tests run
// as root. It boots slowly (10-30 s here): Start waits for the AMQP port.
type RabbitMQ struct {
	Port     int // AMQP
	DistPort int
	Node     string
	Dir      string
	user     *ServiceUser
	cmd      *Cmd
}

// AMQPMessage is one message for Publish.
type AMQPMessage struct {
	Key  string `json:"key"`  // routing key
	Body string `json:"body"` // body
}

const rabbitServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// StartRabbitMQ starts a node; it is killed at cleanup.
func StartRabbitMQ(t testing.TB) *RabbitMQ {
	t.Helper()
	if _, err := os.Stat(rabbitServer); err != nil {
		t.Fatalf("rabbitmq-server not found (%s): run rel/scripts/install-peers.sh", rabbitServer)
	}
	EnsureEPMD(t)
	r := &RabbitMQ{Port: FreePort(t), DistPort: FreePort(t), Node: UniqueName("imperial_rmq") + "@localhost", user: ServiceUserFor(t, "rabbitmq")}
	r.Dir = TempDirFor(t, r.user, "imperial-rmq-")
	files := map[string]string{
		"rabbitmq.conf":      "loopback_users = none\ndisk_free_limit.absolute = 1MB\n",
		"advanced.config":    "[].\n",
		"enabled_plugins":    "[].\n",
		"rabbitmq-env.conf":  "",
		"mnesia/.keep":       "",
		"log/.keep":          "",
		"plugins-expand/.ok": "",
	}
	for name, data := range files {
		p := filepath.Join(r.Dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ChownFor(t, r.user, r.Dir)
	r.Start(t)
	return r
}

func (r *RabbitMQ) env() []string {
	return []string{
		"HOME=" + r.Dir,
		"RABBITMQ_NODENAME=" + r.Node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		fmt.Sprintf("RABBITMQ_NODE_PORT=%d", r.Port),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", r.DistPort),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(r.Dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(r.Dir, "log"),
		"RABBITMQ_LOGS=-",
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(r.Dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(r.Dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(r.Dir, "enabled_plugins"),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(r.Dir, "rabbitmq-env.conf"),
		"RABBITMQ_PLUGINS_EXPAND_DIR=" + filepath.Join(r.Dir, "plugins-expand"),
		"RABBITMQ_PID_FILE=" + filepath.Join(r.Dir, "rabbit.pid"),
	}
}

// Start (re)starts the node with the same name, ports and data, and waits
// until the AMQP port accepts.
func (r *RabbitMQ) Start(t testing.TB) {
	t.Helper()
	r.cmd = StartAs(t, r.user, r.Dir, r.env(), rabbitServer)
	r.cmd.LogOnFailure(t, "rabbitmq")
	r.cmd.Await(t, "rabbitmq-server", 120*time.Second, func() error { return Accepts(r.Addr()) })
}

// Kill SIGKILLs the node (its whole process group), as a crash would.
func (r *RabbitMQ) Kill() { r.cmd.Kill() }

// Stop stops the node with SIGTERM (a clean shutdown that closes connections).
func (r *RabbitMQ) Stop() {
	r.cmd.StopWith(syscall.SIGTERM, 60*time.Second)
}

// Addr is the AMQP host:port.
func (r *RabbitMQ) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Publish publishes messages to the uwsgi.emperor fanout exchange with pika
// (Debian's python3-pika in /usr/bin/python3), declaring the exchange as
// uWSGI's emperor_amqp and its documented publishers do.
func (r *RabbitMQ) Publish(t testing.TB, msgs ...AMQPMessage) {
	t.Helper()
	data, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf(`import json, sys, pika
conn = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=%d, connection_attempts=3, retry_delay=0.5))
ch = conn.channel()
ch.exchange_declare(exchange="uwsgi.emperor", exchange_type="fanout")
for m in json.load(sys.stdin):
    ch.basic_publish(exchange="uwsgi.emperor", routing_key=m["key"], body=m["body"].encode())
conn.close()
`, r.Port)
	cmd := exec.Command("/usr/bin/python3", "-c", code)
	cmd.Stdin = strings.NewReader(string(data))
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "No module named 'pika'") {
			t.Fatalf("python3-pika not found: run rel/scripts/install-peers.sh")
		}
		t.Fatalf("pika publish: %v\n%s", err, out)
	}
}

package amqp

// consumeMeta owns one connection to the broker.
//
// Accepts  nothing (Terminate ends it).
// Replies  nothing.
// Sends    to its parent: netwatch.MessageUp once the queue is consumed;
//          netwatch.MessageTouch, netwatch.MessageDestroy or
//          netwatch.MessageProblem per delivery (acked after);
//          netwatch.MessageDown (its last message) when the connection ends.
// Spawns   nothing.
// Owns     the AMQP connection and channel (opened in Start, closed when it
//          returns; amqp091 runs its reader and heartbeat goroutines), the
//          HTTP fetches of URL messages, and the context Terminate cancels.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"ergo.services/ergo/gen"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"imperial/actors/emperor"
	"imperial/actors/monitor/netwatch"
)

// errClosed: the broker closed the connection without saying why.
var errClosed = errors.New("amqp: connection closed")

type consumeMeta struct {
	netwatch.Conn
	o    Options
	http *http.Client
}

func newConsumeMeta(o Options) *consumeMeta {
	m := &consumeMeta{Conn: netwatch.NewConn(), o: o, http: &http.Client{Timeout: o.Timeout}}
	m.Run = m.run
	return m
}

func (m *consumeMeta) dial(network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: m.o.Timeout}
	c, err := d.DialContext(m.Ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// a deadline for the AMQP handshake; amqp091 clears it once open
	if err := c.SetDeadline(time.Now().Add(m.o.Timeout)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (m *consumeMeta) run() error {
	conn, err := amqp091.DialConfig(m.o.URI, amqp091.Config{
		Heartbeat:  m.o.Heartbeat,
		ChannelMax: 8, // one channel is used; never above what the broker allows
		Locale:     "en_US",
		Dial:       m.dial,
		Properties: amqp091.Table{"connection_name": "imperial emperor"},
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp091.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.ExchangeDeclare(Exchange, "fanout", false, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", Exchange, err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return fmt.Errorf("declare queue: %w", err)
	}
	if err := ch.QueueBind(q.Name, "", Exchange, false, nil); err != nil {
		return fmt.Errorf("bind queue: %w", err)
	}
	deliveries, err := ch.Consume(q.Name, "", false, true, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	m.Report(netwatch.MessageUp{})
	for {
		select {
		case <-m.Ctx.Done():
			return m.Ctx.Err()
		case e := <-closed:
			if e != nil {
				return e
			}
			return errClosed
		case d, ok := <-deliveries:
			if !ok {
				select {
				case e := <-closed:
					if e != nil {
						return e
					}
				default:
				}
				return errClosed
			}
			m.Report(m.handle(d.RoutingKey, d.Body))
			if err := d.Ack(false); err != nil {
				return err
			}
		}
	}
}

// handle turns one delivery into the message for the actor.
func (m *consumeMeta) handle(key string, body []byte) any {
	a, err := Decode(key, body)
	if err != nil {
		return netwatch.MessageProblem{Problem: netwatch.Problem{Name: a.Name, Err: err}}
	}
	switch a.Kind {
	case KindDirect:
		return netwatch.MessageTouch{Vassal: emperor.VassalConfig{Name: a.Name, Config: a.Config, UID: -1, GID: -1}}
	case KindRemove:
		return netwatch.MessageDestroy{Name: a.Name}
	case KindPath:
		path := a.Target
		if !filepath.IsAbs(path) {
			path = filepath.Join(m.o.Cwd, path)
		}
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() {
			return netwatch.MessageDestroy{Name: a.Name}
		}
		return netwatch.MessageTouch{Vassal: emperor.VassalConfig{Name: a.Name, Path: path, UID: -1, GID: -1}}
	case KindURL:
		config, status, err := m.fetch(a.Target)
		if err != nil {
			return netwatch.MessageProblem{Problem: netwatch.Problem{Name: a.Name, Err: err}}
		}
		if status != http.StatusOK {
			return netwatch.MessageDestroy{Name: a.Name}
		}
		return netwatch.MessageTouch{Vassal: emperor.VassalConfig{Name: a.Name, Config: config, UID: -1, GID: -1}}
	}
	return netwatch.MessageProblem{Problem: netwatch.Problem{Name: a.Name, Err: fmt.Errorf("unknown action %s", a.Kind)}}
}

// fetch GETs a config URL: the body of a 200 (at most MaxConfig bytes), or
// the status of anything else.
func (m *consumeMeta) fetch(url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(m.Ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, resp.StatusCode, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxConfig+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %v", ErrFetch, url, err)
	}
	if len(data) > MaxConfig {
		return nil, 0, fmt.Errorf("%w: %s: config > %d bytes", ErrTooLarge, url, MaxConfig)
	}
	if len(data) == 0 {
		return nil, http.StatusNoContent, nil
	}
	return data, resp.StatusCode, nil
}

func (m *consumeMeta) HandleInspect(from gen.PID, item ...string) map[string]string {
	return map[string]string{"source": m.o.Source}
}

package amqp

import (
	"fmt"
	"regexp"
	"strings"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Exchange is the fanout exchange uWSGI's emperors listen on.
const Exchange = "uwsgi.emperor"

// ParseSpec turns the argument of `amqp://ARG` into a broker URI: ARG is
// HOST[:PORT] (uWSGI's form: user guest/guest, vhost "/", port 5672), or
// USER:PASSWORD@HOST[:PORT][/VHOST] (the form uWSGI documents but never
// implemented).
func ParseSpec(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "@") {
		return "", fmt.Errorf("%w: %q: want [USER:PASSWORD@]HOST[:PORT][/VHOST]", ErrSpec, arg)
	}
	uri := "amqp://" + arg
	if !strings.Contains(arg, "@") {
		uri = "amqp://guest:guest@" + arg
	}
	u, err := amqp091.ParseURI(uri)
	if err != nil {
		text := strings.ReplaceAll(err.Error(), uri, Redact(uri))
		return "", fmt.Errorf("%w: %q: %s", ErrSpec, Redact(arg), text)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%w: %q: no host", ErrSpec, Redact(arg))
	}
	return uri, nil
}

var userInfo = regexp.MustCompile(`([^:/@]*:)[^@/]*@`)

// Redact hides the password of a spec or URI.
func Redact(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		return s[:i+3] + userInfo.ReplaceAllString(s[i+3:], "${1}xxxxx@")
	}
	return userInfo.ReplaceAllString(s, "${1}xxxxx@")
}

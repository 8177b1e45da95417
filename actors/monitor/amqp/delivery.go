package amqp

import (
	"fmt"
	"strings"
)

// Limits on messages.
const (
	MaxConfig = 65535 // bytes of a direct config or fetched one: what the vassal's config socket carries
	MaxPath   = 254   // bytes of a path or URL body (uWSGI ignores 255 and more)
)

// Kind is what a message asks for.
type Kind int

const (
	KindDirect Kind = iota + 1 // spawn or reload Name with Config
	KindRemove                 // remove Name
	KindPath                   // Target is a config file: spawn/reload Name if it is a regular file, else remove
	KindURL                    // Target is a URL: spawn/reload Name with its 200 body, else remove
)

func (k Kind) String() string {
	switch k {
	case KindDirect:
		return "direct"
	case KindRemove:
		return "remove"
	case KindPath:
		return "path"
	case KindURL:
		return "url"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Action is one message, decoded.
type Action struct {
	Kind   Kind
	Name   string // the vassal
	Config []byte // KindDirect: the config (a copy of the body)
	Target string // KindPath: the path as sent; KindURL: the URL
}

// Decode reads one message of the uwsgi.emperor exchange (see the package
// comment). An error means the message is ignored; the Action's Name says
// which vassal it was meant for, when known.
func Decode(routingKey string, body []byte) (Action, error) {
	if routingKey != "" {
		if len(body) == 0 {
			return Action{Kind: KindRemove, Name: routingKey}, nil
		}
		if len(body) > MaxConfig {
			return Action{Name: routingKey}, fmt.Errorf("%w: config %d bytes > %d", ErrTooLarge, len(body), MaxConfig)
		}
		return Action{Kind: KindDirect, Name: routingKey, Config: append([]byte(nil), body...)}, nil
	}
	if len(body) == 0 {
		return Action{}, ErrEmpty
	}
	if len(body) > MaxPath {
		return Action{}, fmt.Errorf("%w: path or URL %d bytes > %d", ErrTooLarge, len(body), MaxPath)
	}
	target := string(body)
	if name, ok := URLName(target); ok {
		return Action{Kind: KindURL, Name: name, Target: target}, nil
	}
	return Action{Kind: KindPath, Name: target, Target: target}, nil
}

// URLName names the vassal of an http:// or https:// URL: the URL without its
// scheme, every ':' replaced by '_' (vassal names cannot hold ':').
func URLName(target string) (string, bool) {
	for _, scheme := range []string{"http://", "https://"} {
		if len(target) > len(scheme) && strings.EqualFold(target[:len(scheme)], scheme) {
			return strings.ReplaceAll(target[len(scheme):], ":", "_"), true
		}
	}
	return "", false
}

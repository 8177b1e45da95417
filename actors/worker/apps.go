package worker

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"ergo.services/ergo/gen"

	"imperial/actors/cgi"
	"imperial/node/etf"
)

// RPCFunc calls Module:Function(Args) on an Erlang node (node/kernel.RPC).
type RPCFunc func(ctx context.Context, n gen.Node, peer gen.Atom, module, function etf.Atom, args []any) (any, error)

// AppEnv is what a native app is built from.
type AppEnv struct {
	Node   gen.Node
	Static string // static: the directory served
	// erlang: the node and function serving each request as
	// Module:Function(Environ, Body).
	ErlangNode     gen.Atom
	ErlangModule   etf.Atom
	ErlangFunction etf.Atom
	RPC            RPCFunc
	Timeout        time.Duration // erlang: per call
}

// NativeApp is one entry of the native app table.
type NativeApp struct {
	Name string
	Doc  string
	New  func(AppEnv) (http.Handler, error)
}

// Apps is the table of native Go apps, chosen with --app NAME.
func Apps() []NativeApp {
	return []NativeApp{
		{"testapp", "shows the request environ, like werkzeug's test app", newTestApp},
		{"static", "serves the directory given with --static-root", newStatic},
		{"hello", "answers \"hello\" (the benchmark app)", newHello},
		{"erlang", "calls --erlang-app-call MOD:FUN(Environ, Body) on --erlang-app-node", newErlangApp},
	}
}

// LookupApp finds a native app by name.
func LookupApp(name string) (NativeApp, error) {
	for _, a := range Apps() {
		if a.Name == name {
			return a, nil
		}
	}
	names := make([]string, 0, 4)
	for _, a := range Apps() {
		names = append(names, a.Name)
	}
	return NativeApp{}, fmt.Errorf("%w: %q (native apps: %s)", ErrNoApp, name, strings.Join(names, ", "))
}

func newHello(AppEnv) (http.Handler, error) {
	body := []byte("hello")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{"5"}
		w.Write(body)
	}), nil
}

func newStatic(env AppEnv) (http.Handler, error) {
	if env.Static == "" {
		return nil, fmt.Errorf("%w: static needs --static-root DIR", ErrOptions)
	}
	return http.FileServer(http.Dir(env.Static)), nil
}

// newTestApp shows the environ as werkzeug's test application does: a page
// with every variable, sorted, and the request body length.
func newTestApp(AppEnv) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vars := cgi.Environ(r, "", "http")
		type kv struct{ k, v string }
		rows := make([]kv, 0, len(vars))
		for _, v := range vars {
			rows = append(rows, kv{string(v.Key), string(v.Value)})
		}
		slices.SortStableFunc(rows, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		n, _ := io.Copy(io.Discard, r.Body)
		var b strings.Builder
		b.WriteString("<!doctype html>\n<title>imperial Test Application</title>\n<h1>imperial Test Application</h1>\n")
		b.WriteString("<p>This page shows the WSGI environ of your request, as the worker received it.</p>\n")
		b.WriteString("<h2>WSGI Environment</h2>\n<table>\n")
		for _, row := range rows {
			fmt.Fprintf(&b, "<tr><th>%s</th><td><code>%s</code></td></tr>\n", html.EscapeString(row.k), html.EscapeString(row.v))
		}
		fmt.Fprintf(&b, "</table>\n<p>Request body: %d bytes.</p>\n", n)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		io.WriteString(w, b.String())
	}), nil
}

// newErlangApp serves each request by calling an Erlang function on a
// connected node with an EWGI-style environ: Module:Function(Environ, Body),
// Environ a list of {Name, Value} binaries (the CGI variables), Body a
// binary. The function returns {Status, Headers, Body}: Status an integer
// or a binary like <<"200 OK">>, Headers a list of {Name, Value} (binaries,
// strings or atoms), Body iodata.
func newErlangApp(env AppEnv) (http.Handler, error) {
	switch {
	case env.ErlangNode == "":
		return nil, fmt.Errorf("%w: erlang app needs --erlang-app-node NODE", ErrOptions)
	case env.ErlangModule == "" || env.ErlangFunction == "":
		return nil, fmt.Errorf("%w: erlang app needs --erlang-app-call MODULE:FUNCTION", ErrOptions)
	case env.RPC == nil || env.Node == nil:
		return nil, fmt.Errorf("%w: erlang app needs the node (run with --erlang NAME)", ErrOptions)
	}
	timeout := env.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vars := cgi.Environ(r, "", "http")
		environ := make(etf.List, 0, len(vars))
		for _, v := range vars {
			environ = append(environ, etf.Tuple{append([]byte{}, v.Key...), append([]byte{}, v.Value...)})
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxExternalBody))
		if err != nil {
			http.Error(w, "bad request body", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		res, err := env.RPC(ctx, env.Node, env.ErlangNode, env.ErlangModule, env.ErlangFunction, []any{environ, body})
		if err != nil {
			http.Error(w, "erlang app: "+err.Error(), http.StatusBadGateway)
			return
		}
		status, headers, out, err := decodeResponse(res)
		if err != nil {
			http.Error(w, "erlang app: "+err.Error(), http.StatusBadGateway)
			return
		}
		writeResponse(w, status, headers, out)
	}), nil
}

// writeResponse writes a decoded answer.
func writeResponse(w http.ResponseWriter, status int, headers [][2]string, body []byte) {
	h := w.Header()
	for _, kv := range headers {
		h.Add(kv[0], kv[1])
	}
	if h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	w.Write(body)
}

// decodeResponse reads {Status, Headers, Body} (the erlang app's answer, and
// the external protocol's after its tag).
func decodeResponse(t any) (int, [][2]string, []byte, error) {
	tup, ok := t.(etf.Tuple)
	if !ok || len(tup) != 3 {
		return 0, nil, nil, fmt.Errorf("%w: want {Status, Headers, Body}, got %v", ErrProtocol, t)
	}
	status, err := decodeStatus(tup[0])
	if err != nil {
		return 0, nil, nil, err
	}
	hl, ok := tup[1].(etf.List)
	if !ok {
		return 0, nil, nil, fmt.Errorf("%w: headers: want a list, got %T", ErrProtocol, tup[1])
	}
	headers := make([][2]string, 0, len(hl))
	for _, h := range hl {
		pair, ok := h.(etf.Tuple)
		if !ok || len(pair) != 2 {
			return 0, nil, nil, fmt.Errorf("%w: header: want {Name, Value}, got %v", ErrProtocol, h)
		}
		k, ok1 := text(pair[0])
		v, ok2 := text(pair[1])
		if !ok1 || !ok2 || k == "" || strings.ContainsAny(k+v, "\r\n") {
			return 0, nil, nil, fmt.Errorf("%w: bad header %v", ErrProtocol, h)
		}
		headers = append(headers, [2]string{k, v})
	}
	body, ok := iodata(tup[2], nil)
	if !ok {
		return 0, nil, nil, fmt.Errorf("%w: body: want iodata, got %T", ErrProtocol, tup[2])
	}
	return status, headers, body, nil
}

func decodeStatus(v any) (int, error) {
	switch s := v.(type) {
	case int64:
		if s >= 100 && s <= 999 {
			return int(s), nil
		}
	default:
		if str, ok := text(v); ok {
			code, _, _ := strings.Cut(str, " ")
			if n, err := strconv.Atoi(code); err == nil && n >= 100 && n <= 999 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: bad status %v", ErrProtocol, v)
}

// text reads a binary, a string (list of bytes) or an atom.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case []byte:
		return string(t), true
	case string:
		return t, true
	case etf.Atom:
		return string(t), true
	case gen.Atom:
		return string(t), true
	case etf.List:
		b, ok := iodata(t, nil)
		return string(b), ok
	}
	return "", false
}

// iodata flattens a binary, a byte, or a (nested) list of those.
func iodata(v any, buf []byte) ([]byte, bool) {
	switch t := v.(type) {
	case []byte:
		return append(buf, t...), true
	case string:
		return append(buf, t...), true
	case int64:
		if t < 0 || t > 255 {
			return nil, false
		}
		return append(buf, byte(t)), true
	case etf.List:
		for _, e := range t {
			var ok bool
			if buf, ok = iodata(e, buf); !ok {
				return nil, false
			}
		}
		return buf, true
	}
	return nil, false
}

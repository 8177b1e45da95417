package bert_test

import (
	"errors"
	"reflect"
	"testing"

	"imperial/bertrpc/bert"
	"imperial/node/etf"
)

func TestParseMessage(t *testing.T) {
	bin := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name string
		in   any
		want bert.Message
	}{
		{"call", etf.Tuple{atom("call"), atom("ext"), atom("add"), etf.List{int64(1), int64(2)}},
			bert.Request{Kind: bert.Call, Module: "ext", Function: "add", Args: []any{int64(1), int64(2)}}},
		{"cast no args", etf.Tuple{atom("cast"), atom("stats"), atom("incr"), etf.List{}},
			bert.Request{Kind: bert.Cast, Module: "stats", Function: "incr", Args: []any{}}},
		{"info", etf.Tuple{atom("info"), atom("priority"), etf.List{atom("low")}},
			bert.Info{Command: "priority", Args: etf.List{atom("low")}}},
		{"info bare atom", etf.Tuple{atom("info"), atom("priority"), atom("low")},
			bert.Info{Command: "priority", Args: atom("low")}},
		{"info as list (ruby bertrpc cache)", etf.List{atom("info"), atom("cache"), etf.List{atom("validation"), bin("t")}},
			bert.Info{Command: "cache", Args: etf.List{atom("validation"), bin("t")}}},
		{"reply", etf.Tuple{atom("reply"), nil}, bert.Reply{Result: nil}},
		{"noreply", etf.Tuple{atom("noreply")}, bert.NoReply{}},
		{"error tuple", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), bin("RuntimeError"), bin("abandon hope!"), etf.List{bin("x.rb:1"), bin("y.rb:2")}}},
			&bert.Error{Type: "user", Class: "RuntimeError", Detail: "abandon hope!", Backtrace: []string{"x.rb:1", "y.rb:2"}}},
		{"ernie list error", etf.Tuple{atom("error"), etf.List{atom("server"), int64(0), bin("ServerError"), bin("No such module 'nope'"), etf.List{}}},
			&bert.Error{Type: "server", Class: "ServerError", Detail: "No such module 'nope'"}},
		{"invalid request 3-tuple", etf.Tuple{atom("error"), etf.Tuple{atom("server"), int64(0), bin("Invalid request: [1]")}},
			&bert.Error{Type: "server", Detail: "Invalid request: [1]"}},
		{"error charlist texts", etf.Tuple{atom("error"), etf.Tuple{atom("proxy"), int64(101), etf.List{int64('E')}, atom("d"), nil}},
			&bert.Error{Type: "proxy", Code: 101, Class: "E", Detail: "d"}},
		{"error charlist backtrace", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), bin("C"), bin("D"), etf.List{int64('a'), int64(233)}}},
			&bert.Error{Type: "user", Class: "C", Detail: "D", Backtrace: []string{"aé"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bert.ParseMessage(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseMessage = %#v, want %#v", got, tt.want)
			}
			// Every message survives Encode → DecodeMessage (the list form
			// of info comes back as a tuple, which parses the same).
			b, err := bert.Encode(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := bert.DecodeMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bert.Equal(again, got) {
				t.Fatalf("round trip: %#v, want %#v", again, got)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"not a tuple", int64(1)},
		{"empty tuple", etf.Tuple{}},
		{"plain list", etf.List{atom("call")}},
		{"unknown head", etf.Tuple{atom("foo"), int64(1)}},
		{"call arity 3", etf.Tuple{atom("call"), atom("m"), atom("f")}},
		{"call module binary", etf.Tuple{atom("call"), []byte("m"), atom("f"), etf.List{}}},
		{"call function int", etf.Tuple{atom("call"), atom("m"), int64(1), etf.List{}}},
		{"call args tuple", etf.Tuple{atom("call"), atom("m"), atom("f"), etf.Tuple{}}},
		{"call args nil", etf.Tuple{atom("call"), atom("m"), atom("f"), nil}},
		{"call args improper", etf.Tuple{atom("call"), atom("m"), atom("f"), etf.ImproperList{Elems: []any{int64(1)}, Tail: int64(2)}}},
		{"info arity 2", etf.Tuple{atom("info"), atom("x")}},
		{"info command binary", etf.Tuple{atom("info"), []byte("x"), etf.List{}}},
		{"reply arity 1", etf.Tuple{atom("reply")}},
		{"noreply arity 2", etf.Tuple{atom("noreply"), int64(1)}},
		{"error arity 1", etf.Tuple{atom("error")}},
		{"error inner atom", etf.Tuple{atom("error"), atom("x")}},
		{"error inner short", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0)}}},
		{"error inner long", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), nil, nil, nil, nil}}},
		{"error type binary", etf.Tuple{atom("error"), etf.Tuple{[]byte("user"), int64(0), nil, nil, nil}}},
		{"error code float", etf.Tuple{atom("error"), etf.Tuple{atom("user"), 0.0, nil, nil, nil}}},
		{"error class int", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), int64(1), nil, nil}}},
		{"error backtrace tuple", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), nil, nil, etf.Tuple{}}}},
		{"error backtrace frame int", etf.Tuple{atom("error"), etf.Tuple{atom("user"), int64(0), nil, nil, etf.List{[]byte("a"), int64(1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := bert.ParseMessage(tt.in); !errors.Is(err, bert.ErrMalformed) {
				t.Fatalf("ParseMessage = %#v, %v; want ErrMalformed", m, err)
			}
		})
	}
}

func TestDecodeMessageRuby(t *testing.T) {
	// t[:call, :ext, :add, [1, 2]] as Ruby's bert writes it (LIST_EXT args).
	m, err := bert.DecodeMessage(unhex(t, "83680464000463616c6c6400036578746400036164646c00000002610161026a"))
	if err != nil {
		t.Fatal(err)
	}
	want := bert.Request{Kind: bert.Call, Module: "ext", Function: "add", Args: []any{int64(1), int64(2)}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %#v", m)
	}
	if _, err := bert.DecodeMessage(unhex(t, "836a")); !errors.Is(err, bert.ErrMalformed) {
		t.Fatalf("[] as message: %v", err)
	}
	if _, err := bert.DecodeMessage(unhex(t, "8368")); !errors.Is(err, bert.ErrMalformed) {
		t.Fatalf("truncated message: %v", err)
	}
}

func TestErrorIs(t *testing.T) {
	sentinels := map[string]error{
		bert.ErrorProtocol: bert.ErrRemoteProtocol, bert.ErrorServer: bert.ErrRemoteServer,
		bert.ErrorUser: bert.ErrRemoteUser, bert.ErrorProxy: bert.ErrRemoteProxy,
	}
	for typ, want := range sentinels {
		var err error = &bert.Error{Type: typ, Class: "C", Detail: "D"}
		for other, s := range sentinels {
			if got := errors.Is(err, s); got != (other == typ) {
				t.Fatalf("errors.Is(%s error, %v) = %v", typ, s, got)
			}
		}
		if !errors.Is(err, want) {
			t.Fatalf("%s error does not match %v", typ, want)
		}
	}
	e := &bert.Error{Type: "user", Code: 3, Class: "RuntimeError", Detail: "abandon hope!"}
	if got, want := e.Error(), "bert: user error 3: RuntimeError: abandon hope!"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestKindString(t *testing.T) {
	if bert.Call.String() != "call" || bert.Cast.String() != "cast" || bert.Kind(9).String() != "Kind(9)" {
		t.Fatal("Kind.String")
	}
}

package ernie_test

import (
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"imperial/bertrpc/bert"
	"imperial/ernie"
	"imperial/node/etf"
)

func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := etf.Encode(v, etf.EncodeOptions{BERT: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodePacket(t *testing.T) {
	call := etf.Tuple{etf.Atom("call"), etf.Atom("ext"), etf.Atom("add"), etf.List{int64(1), int64(2)}}
	tests := []struct {
		name    string
		in      []byte
		info    bool
		cmd     string
		prio    ernie.Priority
		hasPrio bool
		kind    bert.Kind
		mod     string
		nargs   int
		err     error
	}{
		{name: "call", in: enc(t, call), kind: bert.Call, mod: "ext", nargs: 2},
		// Ruby's t[:call, :ext, :add, [1, 2]] (ernie-bert.md §1.1).
		{name: "ruby call bytes", in: unhex(t, "83 68 04 64 00 04 63616c6c 64 00 03 657874 64 00 03 616464 6c 00 00 00 02 61 01 61 02 6a"),
			kind: bert.Call, mod: "ext", nargs: 2},
		// Erlang sends [1,2] as STRING_EXT.
		{name: "erlang string args", in: unhex(t, "83 68 04 64 00 04 63616c6c 64 00 03 657874 64 00 03 616464 6b 00 02 01 02"),
			kind: bert.Call, mod: "ext", nargs: 2},
		{name: "cast no args", in: enc(t, etf.Tuple{etf.Atom("cast"), etf.Atom("m"), etf.Atom("f"), etf.List{}}), kind: bert.Cast, mod: "m"},
		{name: "priority list low", in: enc(t, etf.Tuple{etf.Atom("info"), etf.Atom("priority"), etf.List{etf.Atom("low")}}),
			info: true, cmd: "priority", prio: ernie.Low, hasPrio: true},
		{name: "priority bare low", in: enc(t, etf.Tuple{etf.Atom("info"), etf.Atom("priority"), etf.Atom("low")}),
			info: true, cmd: "priority", prio: ernie.Low, hasPrio: true},
		{name: "priority high", in: enc(t, etf.Tuple{etf.Atom("info"), etf.Atom("priority"), etf.List{etf.Atom("high")}}),
			info: true, cmd: "priority", prio: ernie.High, hasPrio: true},
		{name: "priority medium ignored", in: enc(t, etf.Tuple{etf.Atom("info"), etf.Atom("priority"), etf.List{etf.Atom("medium")}}),
			info: true, cmd: "priority"},
		{name: "cache info list form", in: enc(t, etf.List{etf.Atom("info"), etf.Atom("cache"), etf.List{etf.Atom("validation"), []byte("tok")}}),
			info: true, cmd: "cache"},
		{name: "stream info", in: enc(t, etf.Tuple{etf.Atom("info"), etf.Atom("stream"), etf.List{}}), info: true, cmd: "stream"},
		{name: "empty", in: []byte{}, err: ernie.ErrUndecodable},
		{name: "bad magic", in: []byte{132, 106}, err: ernie.ErrUndecodable},
		{name: "truncated", in: enc(t, call)[:10], err: ernie.ErrUndecodable},
		{name: "trailing", in: append(enc(t, call), 0), err: ernie.ErrUndecodable},
		{name: "list", in: enc(t, etf.List{int64(1), int64(2)}), err: ernie.ErrInvalidRequest},
		{name: "one tuple", in: enc(t, etf.Tuple{etf.Atom("foo")}), err: ernie.ErrInvalidRequest},
		{name: "foo 4-tuple", in: enc(t, etf.Tuple{etf.Atom("foo"), etf.Atom("m"), etf.Atom("f"), etf.List{}}), err: ernie.ErrInvalidRequest},
		{name: "args not a list", in: enc(t, etf.Tuple{etf.Atom("call"), etf.Atom("m"), etf.Atom("f"), int64(1)}), err: ernie.ErrInvalidRequest},
		{name: "module binary", in: enc(t, etf.Tuple{etf.Atom("call"), []byte("m"), etf.Atom("f"), etf.List{}}), err: ernie.ErrInvalidRequest},
		{name: "reply", in: enc(t, etf.Tuple{etf.Atom("reply"), int64(1)}), err: ernie.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ernie.DecodePacket(tt.in, etf.Limits{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Info != tt.info || p.Command != tt.cmd || p.Priority != tt.prio || p.HasPriority != tt.hasPrio {
				t.Fatalf("packet %+v", p)
			}
			if !tt.info {
				a := p.Action
				if a.Kind != tt.kind || a.Module != tt.mod || len(a.Args) != tt.nargs || len(a.Term) != 4 {
					t.Fatalf("action %+v", a)
				}
			}
		})
	}
}

func TestInvalidRequestDetail(t *testing.T) {
	_, err := ernie.DecodePacket(enc(t, etf.List{int64(1), int64(2)}), etf.Limits{})
	e := ernie.ErrorReply(err, "", "")
	if e.Type != "server" || e.Detail != "Invalid request: [1,2]" {
		t.Fatalf("reply %+v", e)
	}
}

func TestDecodePacketLimits(t *testing.T) {
	deep := etf.List{}
	var v any = deep
	for range 50 {
		v = etf.List{v}
	}
	_, err := ernie.DecodePacket(enc(t, etf.Tuple{etf.Atom("call"), etf.Atom("m"), etf.Atom("f"), v}), etf.Limits{MaxDepth: 10})
	if !errors.Is(err, ernie.ErrUndecodable) || !errors.Is(err, etf.ErrTooDeep) {
		t.Fatalf("err %v", err)
	}
}

func TestParseAdmin(t *testing.T) {
	for fun, want := range map[string]ernie.Admin{"reload_handlers": ernie.AdminReloadHandlers,
		"stats": ernie.AdminStats, "halt": ernie.AdminHalt, "reload-handlers": ernie.AdminUnknown, "": ernie.AdminUnknown} {
		if got := ernie.ParseAdmin(fun); got != want {
			t.Errorf("ParseAdmin(%q) = %d, want %d", fun, got, want)
		}
	}
}

func TestStatsText(t *testing.T) {
	s := ernie.Stats{Total: 20, Completed: 17, QueueHigh: 1, Idle: []ernie.IdleStat{
		{Module: "tnat", Native: true}, {Module: "tnat", Idle: 2}}}
	want := "connections.total=20\nconnections.completed=17\nworkers.idle.tnat=native\nworkers.idle.tnat=2\nqueue.high=1\nqueue.low=0\n"
	if got := s.Text(); got != want {
		t.Fatalf("stats text\n%s\nwant\n%s", got, want)
	}
}

func TestDemoAdd(t *testing.T) {
	n := mustNatives(t, ernie.Demo("demo"))
	add, ok := n.Lookup("demo", "add", 2)
	if !ok {
		t.Fatal("no demo:add/2")
	}
	huge, _ := new(big.Int).SetString("100000000000000000000", 10)
	tests := []struct {
		a, b any
		want string
	}{
		{int64(1), int64(2), "3"},
		{int64(9223372036854775807), int64(1), "9223372036854775808"},
		{int64(-9223372036854775808), int64(-1), "-9223372036854775809"},
		{huge, int64(-1), "99999999999999999999"},
		{huge, new(big.Int).Neg(huge), "0"},
	}
	for _, tt := range tests {
		v, err := add.Call(context.Background(), []any{tt.a, tt.b})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		switch x := v.(type) {
		case int64:
			got = big.NewInt(x).String()
		case *big.Int:
			got = x.String()
		}
		if got != tt.want {
			t.Errorf("add(%v, %v) = %v, want %s", tt.a, tt.b, v, tt.want)
		}
	}
	if _, err := add.Call(context.Background(), []any{[]byte("a"), int64(1)}); ernie.UserError(err).Class != "ArgumentError" {
		t.Fatalf("add of a binary: %v", err)
	}
	both, _ := n.Lookup("demo", "both", 1)
	for x, want := range map[int64]bool{5: false, 20: true} {
		if got, _ := both.Pred(context.Background(), []any{x}); got != want {
			t.Errorf("both_pred(%d) = %v", x, got)
		}
	}
	sleep, _ := n.Lookup("demo", "sleep", 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sleep.Call(ctx, []any{int64(10000)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep with a cancelled context: %v", err)
	}
}

package ernie

import (
	"context"
	"math/big"
	"os"
	"time"

	"imperial/node/etf"
)

// MaxDemoSleep bounds demo sleep/1.
const MaxDemoSleep = time.Minute

// Demo returns a small native Go module named name, used by the tests and
// the benchmark:
//
//	add(A, B)    A + B for integers of any size; ArgumentError otherwise
//	echo(X)      X
//	sleep(Ms)    sleeps Ms milliseconds (at most MaxDemoSleep), returns ok
//	fail(Msg)    raises RuntimeError with Msg (a binary)
//	both(X)      <<"go">>, with both_pred(X) true only for integers > 10,
//	             so smaller values fall through to the module's next entry
//	pid()        the server's OS pid
func Demo(name string) GoModule {
	return GoModule{Name: name, Functions: []Function{
		{Name: "add", Arity: 2, Call: demoAdd},
		{Name: "echo", Arity: 1, Call: func(_ context.Context, a []any) (any, error) { return a[0], nil }},
		{Name: "sleep", Arity: 1, Call: demoSleep},
		{Name: "fail", Arity: 1, Call: demoFail},
		{Name: "both", Arity: 1, Call: func(context.Context, []any) (any, error) { return []byte("go"), nil },
			Pred: func(_ context.Context, a []any) (bool, error) {
				switch x := a[0].(type) {
				case int64:
					return x > 10, nil
				case *big.Int:
					return x.Sign() > 0, nil
				}
				return false, nil
			}},
		{Name: "pid", Arity: 0, Call: func(context.Context, []any) (any, error) { return int64(os.Getpid()), nil }},
	}}
}

func bigOf(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, true
	}
	return nil, false
}

func demoAdd(_ context.Context, a []any) (any, error) {
	if x, ok := a[0].(int64); ok {
		if y, ok := a[1].(int64); ok {
			if s := x + y; (s > x) == (y > 0) {
				return s, nil
			}
		}
	}
	x, ok1 := bigOf(a[0])
	y, ok2 := bigOf(a[1])
	if !ok1 || !ok2 {
		return nil, &Exception{Class: "ArgumentError", Message: "add/2 wants two integers"}
	}
	s := new(big.Int).Add(x, y)
	if s.IsInt64() {
		return s.Int64(), nil
	}
	return s, nil
}

func demoSleep(ctx context.Context, a []any) (any, error) {
	ms, ok := a[0].(int64)
	if !ok || ms < 0 {
		return nil, &Exception{Class: "ArgumentError", Message: "sleep/1 wants a non-negative integer"}
	}
	d := min(time.Duration(ms)*time.Millisecond, MaxDemoSleep)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return etf.Atom("ok"), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func demoFail(_ context.Context, a []any) (any, error) {
	msg := "failed"
	if b, ok := a[0].([]byte); ok {
		msg = string(b)
	}
	return nil, &Exception{Message: msg}
}

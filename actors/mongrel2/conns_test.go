package mongrel2

import "testing"

func TestConnTable(t *testing.T) {
	tests := []struct {
		name       string
		add        int   // requests added on connection a
		remove     []int // indexes (of those) removed before the disconnect
		wantCancel int
	}{
		{"none", 0, nil, 0},
		{"one", 1, nil, 1},
		{"one removed", 1, []int{0}, 0},
		{"three", 3, nil, 3},
		{"three, first removed", 3, []int{0}, 2},
		{"three, middle removed", 3, []int{1}, 2},
		{"three, all removed", 3, []int{2, 0, 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := newConnTable()
			a, b := connKey{0, "a"}, connKey{1, "a"}
			cancelled := make([]bool, tc.add)
			toks := make([]uint64, tc.add)
			for i := range tc.add {
				toks[i] = ct.add(a, func() { cancelled[i] = true })
			}
			other := false
			otherTok := ct.add(b, func() { other = true })
			for _, i := range tc.remove {
				ct.remove(a, toks[i])
			}
			if n := ct.disconnect(a); n != tc.wantCancel {
				t.Fatalf("disconnect = %d, want %d", n, tc.wantCancel)
			}
			n := 0
			for i, c := range cancelled {
				if c {
					n++
					for _, r := range tc.remove {
						if r == i {
							t.Fatalf("request %d cancelled after its removal", i)
						}
					}
				}
			}
			if n != tc.wantCancel || other {
				t.Fatalf("%d cancelled (other connection: %v), want %d", n, other, tc.wantCancel)
			}
			for _, tok := range toks {
				ct.remove(a, tok) // after the disconnect: nothing to do
			}
			if _, ok := ct.live[a]; ok {
				t.Fatal("connection still recorded after its disconnect")
			}
			ct.remove(b, otherTok)
			if len(ct.live) != 0 {
				t.Fatalf("%d connections left", len(ct.live))
			}
		})
	}
}

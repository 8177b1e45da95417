//go:build peers

package ernie_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"imperial/rel/peers"
)

// TestRubyFastBERT: ernie.rb's FastBERT writes exactly what ruby-bert's
// BERT.encode writes for every value it accepts, and declines the rest.
func TestRubyFastBERT(t *testing.T) {
	ruby := peers.Require(t, "ruby")
	lib, _ := filepath.Abs("handlers/ruby")
	out, err := exec.Command(ruby, "-I"+lib, "-e", `
require 'ernie'
Ernie.auto_start = false
vals = [0, 1, 255, 256, -1, (1 << 27) - 1, -(1 << 27), 1 << 27, -(1 << 27) - 1, 2**64, -(2**64),
        :a, :"é", :"", "", "abc", "é", "\xff".b, "\u00e9".encode('ISO-8859-1'), nil, true, false,
        1.5, -0.0, 1e300, 0.1, [], [[]], [1, [2, [3]]], t[], t[1], t[:reply, 3], t[*(1..300).to_a],
        (1..300).to_a, { 'a' => 1 }, [{ 1 => 2 }], Time.at(0), /x/, t[:reply, "é", [nil, true, 1.5, :x]],
        t[:error, t[:user, 0, 'RuntimeError', 'boom', ['a.rb:1', 'b.rb:2']]]]
fast = 0
vals.each do |v|
  f = FastBERT.encode(v)
  fast += 1 if f
  puts "differ #{v.inspect}: #{f.unpack1('H*')} != #{BERT.encode(v).unpack1('H*')}" if f && f != BERT.encode(v)
end
declined = vals.reject { |v| FastBERT.encode(v) }
puts "fast #{fast} declined #{declined.size}"
`).CombinedOutput()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "fast 32 declined 8" {
		t.Fatalf("FastBERT:\n%s", got)
	}
}

package ernie

import (
	"testing"

	"imperial/bertrpc/bert"
)

func TestNoReplyBytes(t *testing.T) {
	b, err := bert.Encode(bert.NoReply{})
	if err != nil || string(b) != string(noReply) {
		t.Fatalf("noReply %v, bert.Encode gives %v (%v)", noReply, b, err)
	}
}

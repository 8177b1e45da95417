package handshake

import (
	"reflect"
	"testing"
)

func TestFlagValues(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uint64
	}{
		{"Mandatory25", Mandatory25, 0x1070F94},
		{"Mandatory26", Mandatory26, 0x403070F94},
		{"DefaultFlags", DefaultFlags, 0xD075F5FBD},
		{"HiddenFlags", HiddenFlags, 0xD075F5FBC},
		{"FlagMandatory25Digest", FlagMandatory25Digest, 0x4000000},
		{"FlagSpawn", FlagSpawn, 0x100000000},
		{"FlagAlias", FlagAlias, 0x800000000},
		{"FlagV4NC", FlagV4NC, 0x400000000},
		{"FlagHandshake23", FlagHandshake23, 0x1000000},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
	if DefaultFlags&(FlagFragments|FlagDistHdrAtomCache|FlagNameMe) != 0 {
		t.Errorf("DefaultFlags advertises %v", FlagNames(DefaultFlags&(FlagFragments|FlagDistHdrAtomCache|FlagNameMe)))
	}
	const erl25 = 0xD07DF7FBD // what OTP 25 erl sends
	if Mandatory26&^erl25 != 0 {
		t.Errorf("OTP 25 erl lacks %v", FlagNames(Mandatory26&^erl25))
	}
}

func TestExpandFlags(t *testing.T) {
	for _, tc := range []struct{ in, want uint64 }{
		{0, 0},
		{FlagPublished, FlagPublished},
		{FlagMandatory25Digest, FlagMandatory25Digest | Mandatory25},
		{FlagMandatory25Digest | FlagSpawn, FlagMandatory25Digest | Mandatory25 | FlagSpawn},
		{Mandatory25, Mandatory25},
		{1 << 36, 1 << 36}, // the documented-but-wrong digest bit expands nothing
	} {
		if got := ExpandFlags(tc.in); got != tc.want {
			t.Errorf("ExpandFlags(%#x) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestFlagNames(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want []string
	}{
		{0, []string{}},
		{FlagBigCreation, []string{"BIG_CREATION"}},
		{FlagUnlinkID | FlagV4NC, []string{"UNLINK_ID", "V4_NC"}},
		{1 << 15, []string{"BIT_15"}},
		{1 << 63, []string{"BIT_63"}},
	} {
		if got := FlagNames(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FlagNames(%#x) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len(FlagNames(Mandatory25)); n != 11 {
		t.Errorf("Mandatory25 has %d flags, want 11", n)
	}
}

package handshake

import (
	"math/bits"
	"strconv"
)

// Distribution flags (DFLAG_*), spec erlang-dist.md §3.1. Internal erts bits that never travel on the wire
// (ETS_COMPRESSED, PENDING_CONNECT, LOCAL_EXT) and unmerged or OTP 28 bits (MULTISEND, ALTACT_SIG) are left out.
const (
	FlagPublished          uint64 = 1 << 0  // visible node
	FlagAtomCache          uint64 = 1 << 1  // obsolete
	FlagExtendedReferences uint64 = 1 << 2  // 3-word refs
	FlagDistMonitor        uint64 = 1 << 3  // monitors by pid
	FlagFunTags            uint64 = 1 << 4  // separate fun tags
	FlagDistMonitorName    uint64 = 1 << 5  // monitors by registered name
	FlagHiddenAtomCache    uint64 = 1 << 6  // obsolete
	FlagNewFunTags         uint64 = 1 << 7  // NEW_FUN_EXT
	FlagExtendedPidsPorts  uint64 = 1 << 8  // extended pids and ports
	FlagExportPtrTag       uint64 = 1 << 9  // EXPORT_EXT
	FlagBitBinaries        uint64 = 1 << 10 // BIT_BINARY_EXT
	FlagNewFloats          uint64 = 1 << 11 // NEW_FLOAT_EXT
	FlagUnicodeIO          uint64 = 1 << 12 // io requests to our group leaders use unicode
	FlagDistHdrAtomCache   uint64 = 1 << 13 // 'D' header with atom cache; never advertised by us
	FlagSmallAtomTags      uint64 = 1 << 14 // SMALL_ATOM_EXT
	FlagUTF8Atoms          uint64 = 1 << 16 // atoms as ATOM_UTF8_EXT / SMALL_ATOM_UTF8_EXT
	FlagMapTag             uint64 = 1 << 17 // MAP_EXT
	FlagBigCreation        uint64 = 1 << 18 // 32-bit creation
	FlagSendSender         uint64 = 1 << 19 // SEND_SENDER instead of SEND
	FlagBigSeqtraceLabels  uint64 = 1 << 20 // any term as seq_trace label
	FlagExitPayload        uint64 = 1 << 22 // PAYLOAD_EXIT* control messages
	FlagFragments          uint64 = 1 << 23 // 'E'/'F' fragments; changes framing, never advertised by default
	FlagHandshake23        uint64 = 1 << 24 // version 6 handshake
	FlagUnlinkID           uint64 = 1 << 25 // UNLINK_ID / UNLINK_ID_ACK link protocol
	FlagMandatory25Digest  uint64 = 1 << 26 // "I have every OTP 25 mandatory flag" (bit 26, not 36: spec §3.1)
	FlagSpawn              uint64 = 1 << 32 // SPAWN_REQUEST / SPAWN_REPLY
	FlagNameMe             uint64 = 1 << 33 // dynamic node name; never sent by us
	FlagV4NC               uint64 = 1 << 34 // 32-bit pid id/serial, 64-bit port id, refs up to 5 words
	FlagAlias              uint64 = 1 << 35 // ALIAS_SEND
)

// Mandatory25 is what an OTP 25 node requires of its peer (erts mandatory mask 0x1070F94).
const Mandatory25 = FlagExtendedReferences | FlagFunTags | FlagNewFunTags | FlagExtendedPidsPorts |
	FlagExportPtrTag | FlagBitBinaries | FlagNewFloats | FlagUTF8Atoms | FlagMapTag | FlagBigCreation |
	FlagHandshake23

// Mandatory26 is what OTP 26 and 27 require of their peer: Mandatory25 plus UNLINK_ID and V4_NC (0x403070F94).
const Mandatory26 = Mandatory25 | FlagUnlinkID | FlagV4NC

// DefaultFlags is what a visible imperial node advertises (0xD075F5FBD, spec §3.2): every OTP 26 mandatory
// flag, the OTP 25 digest bit, and the optional features node/dist implements. FRAGMENTS and
// DIST_HDR_ATOM_CACHE are left out on purpose: each changes the framing of every frame.
const DefaultFlags = Mandatory26 | FlagMandatory25Digest | FlagPublished | FlagDistMonitor |
	FlagDistMonitorName | FlagUnicodeIO | FlagSmallAtomTags | FlagSendSender | FlagBigSeqtraceLabels |
	FlagExitPayload | FlagSpawn | FlagAlias

// HiddenFlags is DefaultFlags for a hidden node: the same without PUBLISHED (0xD075F5FBC).
const HiddenFlags = DefaultFlags &^ FlagPublished

// ExpandFlags returns flags with the eleven OTP 25 mandatory flags ORed in when MANDATORY_25_DIGEST is set,
// as erl's expand_mandatory_25_flag does on receipt. Other bits are untouched.
func ExpandFlags(flags uint64) uint64 {
	if flags&FlagMandatory25Digest != 0 {
		flags |= Mandatory25
	}
	return flags
}

// FlagNames returns erl's names for the bits set in flags, lowest bit first ("BIG_CREATION", ...); a bit
// without a name is given as "BIT_<n>". Used in error messages about missing flags.
func FlagNames(flags uint64) []string {
	names := make([]string, 0, bits.OnesCount64(flags))
	for flags != 0 {
		b := uint(bits.TrailingZeros64(flags))
		flags &^= 1 << b
		names = append(names, flagName(b))
	}
	return names
}

func flagName(bit uint) string {
	switch uint64(1) << bit {
	case FlagPublished:
		return "PUBLISHED"
	case FlagAtomCache:
		return "ATOM_CACHE"
	case FlagExtendedReferences:
		return "EXTENDED_REFERENCES"
	case FlagDistMonitor:
		return "DIST_MONITOR"
	case FlagFunTags:
		return "FUN_TAGS"
	case FlagDistMonitorName:
		return "DIST_MONITOR_NAME"
	case FlagHiddenAtomCache:
		return "HIDDEN_ATOM_CACHE"
	case FlagNewFunTags:
		return "NEW_FUN_TAGS"
	case FlagExtendedPidsPorts:
		return "EXTENDED_PIDS_PORTS"
	case FlagExportPtrTag:
		return "EXPORT_PTR_TAG"
	case FlagBitBinaries:
		return "BIT_BINARIES"
	case FlagNewFloats:
		return "NEW_FLOATS"
	case FlagUnicodeIO:
		return "UNICODE_IO"
	case FlagDistHdrAtomCache:
		return "DIST_HDR_ATOM_CACHE"
	case FlagSmallAtomTags:
		return "SMALL_ATOM_TAGS"
	case FlagUTF8Atoms:
		return "UTF8_ATOMS"
	case FlagMapTag:
		return "MAP_TAG"
	case FlagBigCreation:
		return "BIG_CREATION"
	case FlagSendSender:
		return "SEND_SENDER"
	case FlagBigSeqtraceLabels:
		return "BIG_SEQTRACE_LABELS"
	case FlagExitPayload:
		return "EXIT_PAYLOAD"
	case FlagFragments:
		return "FRAGMENTS"
	case FlagHandshake23:
		return "HANDSHAKE_23"
	case FlagUnlinkID:
		return "UNLINK_ID"
	case FlagMandatory25Digest:
		return "MANDATORY_25_DIGEST"
	case FlagSpawn:
		return "SPAWN"
	case FlagNameMe:
		return "NAME_ME"
	case FlagV4NC:
		return "V4_NC"
	case FlagAlias:
		return "ALIAS"
	}
	return "BIT_" + strconv.Itoa(int(bit))
}

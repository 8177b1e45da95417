package tnetstring

// ParseJSONHeaders gives the external tests (json_fuzz_test.go) the JSON
// headers scanner on its own, with lim normalised as ParseRequest does.
func ParseJSONHeaders(b []byte, lim Limits) (Headers, error) {
	return parseJSONHeaders(b, lim.norm())
}

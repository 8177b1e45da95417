package worker

import "imperial/node/etf"

// EncodeRequestTerm is EncodeRequest through the generic encoder: what the
// direct one must equal.
func EncodeRequestTerm(environ [][2][]byte, body []byte) ([]byte, error) {
	env := make(etf.List, 0, len(environ))
	for _, kv := range environ {
		env = append(env, etf.Tuple{kv[0], kv[1]})
	}
	return etf.Encode(etf.Tuple{tagRequest, env, body}, etf.EncodeOptions{BERT: true})
}

package emperor

import "ergo.services/ergo/gen"

// StatsRequest and StatsData let the black-box tests drive the stats path.
func StatsRequest(to gen.Alias) any { return messageStats{to: to} }

func StatsData(m any) ([]byte, bool) {
	s, ok := m.(statsJSON)
	return s.data, ok
}

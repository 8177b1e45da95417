// Package supervisors holds every static supervisor of imperial, one file
// each. Each file's header draws its subtree and gives the reason for its
// type and for each child's place.
//
//	imperial_emperor_sup (rest_for_one, permanent children, 5 restarts / 10 s)  emperor.go
//	├── imperial_emperor              vassal table; owns vassal actors directly
//	├── imperial_emperor_monitor_N    one per --emperor source
//	└── imperial_vassal_agent         only when this imperial is a vassal
//
// Import rules: supervisors imports actors/* (their Name, Factory, Options);
// apps imports supervisors. It never imports apps or rel.
package supervisors

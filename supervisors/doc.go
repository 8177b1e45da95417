// Package supervisors holds every static supervisor of imperial, one file
// each. Each file's header draws its subtree and gives the reason for its
// type and for each child's place.
//
//	imperial_emperor_sup (rest_for_one, permanent children, 5 restarts / 10 s)  emperor.go
//	├── imperial_emperor              vassal table; owns vassal actors directly
//	├── imperial_emperor_monitor_N    one per --emperor source
//	└── imperial_vassal_agent         only when this imperial is a vassal
//
//	imperial_router_sup (rest_for_one, permanent children, 5 restarts / 10 s)   router.go
//	├── imperial_subscription         key → nodes table every router asks; first
//	├── imperial_fastrouter           --fastrouter: listeners, one splice meta per connection
//	└── imperial_http_router          --http in router mode: HTTP front over the same table
//
//	imperial_worker_sup (rest_for_one, permanent children, 5 restarts / 10 s)   worker.go
//	├── imperial_extworker_pool       external app processes (Python adapter), when external
//	├── imperial_uwsgi_rpc            uWSGI RPC executors on the node's RPC registry
//	├── imperial_worker               sockets, accept loops, the app
//	└── imperial_subscriber_N         one announcer per --subscribe-to, last: announce once listening
//
//	imperial_mongrel2_sup (rest_for_one, permanent children, 5 restarts / 10 s) mongrel2.go
//	├── imperial_mongrel2_pool        the app's external processes, when no worker service shares its pool
//	└── imperial_mongrel2             the handlers (PULL/PUB meta processes per --zeromq)
//
// Two trees live with their packages, because nothing else starts them:
//
//	imperial_kernel_sup (all_for_one; a broken kernel process means the node no longer
//	│                    behaves as an Erlang node, as OTP's net_sup)  node/kernel/app.go
//	├── net_kernel, rex, global_name_server, imperial_echo
//	└── imperial_rpc_0..N-1           RPC workers, jobs spread round robin by node/dist
//
//	ernie_sup (one_for_one, permanent children, 5 restarts / 10 s)       actors/ernie/app.go
//	├── ernie_beam                    the supervised BEAM peer for native Erlang modules, when any
//	├── ernie_pool_<module>           one external worker pool per {command, ...} module
//	└── ernie_server                  listener, connections, hq/lq dispatch, access log, admin
//
// Import rules: supervisors imports actors/* (their Name, Factory, Options);
// apps imports supervisors. It never imports apps or rel.
package supervisors

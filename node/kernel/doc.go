// Package kernel holds what every BEAM node answers, as ergo actors in one
// application (the net_sup of this node):
//
//	kernel app (one_for_all, intensity 0: like net_sup, a broken kernel process
//	│           means the node no longer behaves as an Erlang node)
//	├── net_kernel          answers {is_auth, Node} with yes: net_adm:ping → pong
//	├── rex                 features_request, {call|block_call, M, F, A, GL}, casts
//	├── global_name_server  the minimal global responder of erlang-dist.md §8.2
//	├── imperial_echo       gen_server:call echo and {From, Msg} → From ! {imperial_echo, Msg}
//	└── imperial_rpc_N      workers running RPC registry calls for erpc/rpc (dist.RequestExecute)
//
// It imports node/dist (request types), node/rpc (the registry) and node/etf; node
// wires it into a started ergo node.
package kernel

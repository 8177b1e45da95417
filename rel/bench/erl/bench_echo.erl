%% The BEAM anchor of the node benchmark: a gen_server that answers each call
%% with its request, and an echo/1 for rpc:call.
-module(bench_echo).
-behaviour(gen_server).
-export([start/0, echo/1, init/1, handle_call/3, handle_cast/2]).

start() ->
    {ok, _} = gen_server:start({local, bench_echo}, ?MODULE, [], []),
    ok.

echo(T) -> T.

init([]) -> {ok, nostate}.
handle_call(Req, _From, S) -> {reply, Req, S}.
handle_cast(_, S) -> {noreply, S}.

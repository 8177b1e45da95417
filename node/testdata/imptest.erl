%% Drives an imperial node from a real erl, printing "PASS name" or
%% "FAIL name: detail" for each check of erlang-dist.md §11 that a single erl
%% can observe. node_peer_test.go runs it and requires every PASS.
-module(imptest).
-export([main/1, srv_loop/0]).

main([ImpStr]) ->
    Imp = list_to_atom(ImpStr),
    Checks = [
      {ping, fun() -> pong = net_adm:ping(Imp) end},
      {nodes, fun() -> true = lists:member(Imp, nodes()) end},
      {rpc_node, fun() -> Imp = rpc:call(Imp, erlang, node, []) end},
      {erpc_reverse, fun() -> [3,2,1] = erpc:call(Imp, lists, reverse, [[1,2,3]]) end},
      {rpc_echo, fun() -> T = {a, [1,2|3], #{k => <<"v">>}}, T = rpc:call(Imp, imperial, echo, [T]) end},
      {rpc_throw, fun() -> oops = rpc:call(Imp, test, throw, [oops]) end},
      {erpc_throw, fun() -> oops = try erpc:call(Imp, test, throw, [oops]) catch throw:X -> X end end},
      {rpc_exit, fun() -> {badrpc, {'EXIT', bye}} = rpc:call(Imp, test, exit, [bye]) end},
      {erpc_exit, fun() -> {exception, bye} = try erpc:call(Imp, test, exit, [bye]) catch exit:X -> X end end},
      {rpc_error, fun() -> {badrpc, {'EXIT', {boom, [_|_]}}} = rpc:call(Imp, test, error, [boom]) end},
      {erpc_error, fun() -> {exception, boom, [_|_]} = try erpc:call(Imp, test, error, [boom]) catch error:X -> X end end},
      {rpc_undef, fun() -> {badrpc, {'EXIT', {undef, [{nomod, nofun, [], []}]}}} = rpc:call(Imp, nomod, nofun, []) end},
      {rpc_timeout, fun() -> {badrpc, timeout} = rpc:call(Imp, test, sleep, [3000], 300),
                             pong = net_adm:ping(Imp) end},
      {erpc_timeout, fun() -> {erpc, timeout} = try erpc:call(Imp, test, sleep, [3000], 300) catch error:X -> X end end},
      {rpc_multicall, fun() -> {[Imp], []} = rpc:multicall([Imp], erlang, node, []) end},
      {erpc_multicall, fun() -> [{ok, Imp}] = erpc:multicall([Imp], erlang, node, []) end},
      {rpc_cast, fun() -> true = rpc:cast(Imp, test, notify, [self(), casted]), ok = recv(casted) end},
      {erpc_cast, fun() -> ok = erpc:cast(Imp, test, notify, [self(), ecasted]), ok = recv(ecasted) end},
      {rpc_async, fun() -> Imp = rpc:yield(rpc:async_call(Imp, erlang, node, [])) end},
      {rpc_block_call, fun() -> Imp = rpc:block_call(Imp, erlang, node, []) end},
      {gen_call, fun() -> hello = gen_server:call({imperial_echo, Imp}, hello) end},
      {gen_call_infinity, fun() -> hello = gen_server:call({imperial_echo, Imp}, hello, infinity) end},
      {gen_call_noproc, fun() -> {noproc, _} = try gen_server:call({nosuch, Imp}, x, 5000) catch exit:X -> X end end},
      {send_echo, fun() -> {imperial_echo, Imp} ! {self(), hi}, ok = recv({imperial_echo, hi}) end},
      {monitor_noproc, fun() -> R = erlang:monitor(process, {nosuch, Imp}),
                                ok = recv({'DOWN', R, process, {nosuch, Imp}, noproc}) end},
      {monitor_pid_down, fun() -> V = rpc:call(Imp, test, victim, []), R = erlang:monitor(process, V),
                                  ok = rpc:call(Imp, test, stop, [V, gone]),
                                  ok = recv({'DOWN', R, process, V, gone}) end},
      {monitor_name_down, fun() -> V = rpc:call(Imp, test, victim, [named_victim]),
                                   R = erlang:monitor(process, {named_victim, Imp}),
                                   ok = rpc:call(Imp, test, stop, [V, gone2]),
                                   ok = recv({'DOWN', R, process, {named_victim, Imp}, gone2}) end},
      {link_exit, fun() -> process_flag(trap_exit, true), V = rpc:call(Imp, test, victim, []),
                           true = link(V), ok = rpc:call(Imp, test, stop, [V, boom]),
                           ok = recv({'EXIT', V, boom}) end},
      {unlink_no_exit, fun() -> process_flag(trap_exit, true), V = rpc:call(Imp, test, victim, []),
                                true = link(V), true = unlink(V), R = erlang:monitor(process, V),
                                ok = rpc:call(Imp, test, stop, [V, boom2]),
                                ok = recv({'DOWN', R, process, V, boom2}),
                                ok = receive {'EXIT', V, _} = E -> {unexpected, E} after 0 -> ok end end},
      {exit_signal_kills, fun() -> V = rpc:call(Imp, test, victim, []), R = erlang:monitor(process, V),
                                   true = exit(V, kill),
                                   ok = receive {'DOWN', R, process, V, Why} when Why =/= noproc -> ok
                                   after 5000 -> timeout end end},
      {normal_exit_keeps_linked, fun() -> V = rpc:call(Imp, test, victim, []),
                                          P = spawn(fun() -> link(V), receive go -> ok end end),
                                          R = erlang:monitor(process, P), P ! go,
                                          ok = recv({'DOWN', R, process, P, normal}),
                                          true = rpc:call(Imp, test, alive, [V]) end},
      {go_links_erl, fun() -> V = rpc:call(Imp, test, victim, []), R = erlang:monitor(process, V),
                              P = spawn(fun() -> receive die -> exit(linked_death) end end),
                              ok = rpc:call(Imp, test, link, [V, P]), P ! die,
                              ok = receive {'DOWN', R, process, V, _} -> ok after 5000 -> timeout end end},
      {go_monitors_erl, fun() -> V = rpc:call(Imp, test, victim, []),
                                 P = spawn(fun() -> receive die -> exit(mon_death) end end),
                                 ok = rpc:call(Imp, test, monitor, [V, P, self()]), P ! die,
                                 ok = recv({down, mon_death}) end},
      {go_calls_erl, fun() -> register(imptest_srv, spawn(fun ?MODULE:srv_loop/0)),
                              {srv, hello} = rpc:call(Imp, test, gs_call, [node(), imptest_srv, hello]),
                              {error, noproc} = rpc:call(Imp, test, gs_call, [node(), nosuch, hello]) end},
      {go_sends_erl, fun() -> register(imptest_sink, self()),
                              ok = rpc:call(Imp, test, send, [node(), imptest_sink, sent]),
                              ok = recv(sent),
                              true = rpc:call(Imp, imperial, erlang_send_message, [node(), imptest_sink, sent2]),
                              ok = recv(sent2), unregister(imptest_sink) end},
      {go_rpc_erl, fun() -> N = node(), N = rpc:call(Imp, imperial, erlang_rpc, [node(), erlang, node, []]) end},
      {go_rpc_erl_io, fun() -> ok = rpc:call(Imp, imperial, erlang_rpc, [node(), io, format, ["hi from imperial~n"]]) end},
      {go_rpc_erl_throw, fun() -> x = rpc:call(Imp, imperial, erlang_rpc, [node(), erlang, throw, [x]]) end},
      {big_150k, fun() -> B = pattern(150000), B = gen_server:call({imperial_echo, Imp}, B) end},
      {big_10m_in, fun() -> B = pattern(10000000), B = gen_server:call({imperial_echo, Imp}, B, 30000) end},
      {big_10m_out, fun() -> B = pattern(10000000), B = rpc:call(Imp, test, pattern, [10000000], 30000) end},
      {terms_roundtrip, fun() -> [T = gen_server:call({imperial_echo, Imp}, T) || T <- terms()], ok end},
      {global_sync, fun() -> ok = global:sync() end},
      {global_register, fun() -> yes = global:register_name(imptest_g, self()),
                                 Self = self(), Self = global:whereis_name(imptest_g) end},
      {global_trans, fun() -> ok = global:trans({imptest_l, self()}, fun() -> ok end) end},
      {disconnect, fun() -> monitor_node(Imp, true), true = erlang:disconnect_node(Imp),
                            ok = recv({nodedown, Imp}), pong = net_adm:ping(Imp) end}
    ],
    [run(Name, F) || {Name, F} <- Checks],
    io:format("DONE~n").

run(Name, F) ->
    Self = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {result, self(), catch F()} end),
    receive
        {result, Pid, {'EXIT', Reason}} -> io:format("FAIL ~p: ~P~n", [Name, Reason, 12]);
        {result, Pid, _} -> io:format("PASS ~p~n", [Name])
    after 40000 -> io:format("FAIL ~p: timeout~n", [Name])
    end,
    erlang:demonitor(Ref, [flush]).

recv(M) ->
    receive M -> ok after 5000 -> {timeout, M} end.

pattern(N) ->
    B = list_to_binary(lists:seq(0, 255)),
    binary:part(binary:copy(B, N div 256 + 1), 0, N).

srv_loop() ->
    receive
        {'$gen_call', From, Req} -> gen_server:reply(From, {srv, Req}), srv_loop();
        _ -> srv_loop()
    end.

terms() ->
    X = 42,
    [0, 255, 256, -1, 1 bsl 31, -(1 bsl 31), 1 bsl 64, -(1 bsl 64), 1 bsl 2100, 1.5, -0.0,
     '', 'ünï', list_to_atom(lists:duplicate(255, $a)),
     list_to_atom(lists:flatten(lists:duplicate(100, [128512]))),
     "abc", [a|b], [1,2|3], {}, list_to_tuple(lists:seq(1, 300)),
     #{{1,2} => x, [1] => y, <<"k">> => z},
     maps:from_list([{I, I * I} || I <- lists:seq(1, 40)]),
     <<1:3>>, <<1,2:4>>, <<>>, self(), make_ref(), alias(),
     hd(erlang:ports()), fun lists:map/2, fun() -> X end,
     [[]], lists:seq(1, 70000), {ok, "nested", [{deep, [#{a => [1.0e300]}]}]}].

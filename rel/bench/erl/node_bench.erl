%% Drives the node benchmark from an erl node: calls per second with C
%% concurrent callers for D milliseconds, gen_server:call and rpc:call, against
%% imperial (as it starts by default, and once more with GOMAXPROCS=1) and
%% against a second erl node. Prints "RESULT Target Kind C Rate".
-module(node_bench).
-export([main/1]).

main([ImpS, Imp1S, ErlS, DS]) ->
    Imp = list_to_atom(ImpS), Imp1 = list_to_atom(Imp1S), Erl = list_to_atom(ErlS), D = list_to_integer(DS),
    pong = net_adm:ping(Imp), pong = net_adm:ping(Imp1), pong = net_adm:ping(Erl),
    T = {bench, [1, 2, 3], <<"payload">>},
    %% three rounds, imperial and erl alternating cell by cell, so that a noisy
    %% moment of a shared machine hits both; the Go side takes the median
    Cells = [{Target, Kind, C} || _Round <- [1, 2, 3], Kind <- [gen_call, rpc], C <- [1, 16],
                                  Target <- [imperial, imperial1, erl]],
    [cell(Target, Kind, C, D, T, Imp, Imp1, Erl) || {Target, Kind, C} <- Cells],
    io:format("DONE~n").

op(imperial, gen_call, Imp, _Erl, T) -> fun() -> T = gen_server:call({imperial_echo, Imp}, T) end;
op(erl, gen_call, _Imp, Erl, T) -> fun() -> T = gen_server:call({bench_echo, Erl}, T) end;
op(imperial, rpc, Imp, _Erl, T) -> fun() -> T = rpc:call(Imp, imperial, echo, [T]) end;
op(erl, rpc, _Imp, Erl, T) -> fun() -> T = rpc:call(Erl, bench_echo, echo, [T]) end.

cell(Target, Kind, C, D, T, Imp, Imp1, Erl) ->
    F = case Target of
            imperial1 -> op(imperial, Kind, Imp1, Erl, T);
            _ -> op(Target, Kind, Imp, Erl, T)
        end,
    [F() || _ <- lists:seq(1, 200)], % warm up
    Self = self(),
    Deadline = erlang:monotonic_time(millisecond) + D,
    Pids = [spawn_link(fun() -> Self ! {count, loop(F, Deadline, 0)} end) || _ <- lists:seq(1, C)],
    Total = lists:sum([receive {count, N} -> N end || _ <- Pids]),
    io:format("RESULT ~p ~p ~p ~p~n", [Target, Kind, C, Total * 1000 div D]).

loop(F, Deadline, N) ->
    case N rem 64 =:= 0 andalso erlang:monotonic_time(millisecond) >= Deadline of
        true -> N;
        false -> F(), loop(F, Deadline, N + 1)
    end.

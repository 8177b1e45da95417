%% client: a BERT-RPC client in Erlang, as Ernie's users write them:
%% term_to_binary over gen_tcp with {packet,4}.
-module(client).
-export([call/4, call/5, cast/4, raw/2, persistent/4]).

connect(Port) ->
    {ok, S} = gen_tcp:connect({127,0,0,1}, Port, [binary, {packet, 4}, {active, false}]),
    S.

recv(S) ->
    case gen_tcp:recv(S, 0, 10000) of
        {ok, B} -> binary_to_term(B);
        Error -> Error
    end.

%% call(Port, Mod, Fun, Args) -> {reply, R} | {error, E} | ...
call(Port, M, F, A) -> call(Port, M, F, A, []).

%% call/5 sends the info terms first.
call(Port, M, F, A, Infos) ->
    S = connect(Port),
    [ok = gen_tcp:send(S, term_to_binary(I)) || I <- Infos],
    ok = gen_tcp:send(S, term_to_binary({call, M, F, A})),
    R = recv(S),
    gen_tcp:close(S),
    R.

cast(Port, M, F, A) ->
    S = connect(Port),
    ok = gen_tcp:send(S, term_to_binary({cast, M, F, A})),
    R = recv(S),
    gen_tcp:close(S),
    R.

%% raw(Port, Bytes): send one packet of raw bytes, return the reply and
%% whether the server closed the connection afterwards.
raw(Port, Bytes) ->
    S = connect(Port),
    ok = gen_tcp:send(S, Bytes),
    R = recv(S),
    Closed = gen_tcp:recv(S, 0, 5000),
    gen_tcp:close(S),
    {R, Closed}.

%% persistent(Port, M, F, ArgsList): several calls on one connection.
persistent(Port, M, F, ArgsList) ->
    S = connect(Port),
    Rs = [begin
              ok = gen_tcp:send(S, term_to_binary({call, M, F, A})),
              recv(S)
          end || A <- ArgsList],
    gen_tcp:close(S),
    Rs.

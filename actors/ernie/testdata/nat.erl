%% nat: the native Erlang module of the tests (the seed's `nat`), loaded by
%% imperial's BEAM peer from {codepaths, [...]}.
-module(nat).
-export([add/2, both/1, both_pred/1, boom/0, float/0, echo/1, slow/1, str/0,
         empty/0, yes/0, badpred/1, badpred_pred/1, node/0, thrower/0]).

add(A, B) -> A + B.

%% both/1 is also served by the Ruby entry for nat: the predicate decides.
both(_) -> <<"erlang">>.
both_pred(X) -> X > 10.

boom() -> 1 = 2.

float() -> 1.5.

echo(X) -> X.

slow(Ms) -> timer:sleep(Ms), <<"slept">>.

str() -> "abc".

empty() -> [].

yes() -> true.

badpred(_) -> ok.
badpred_pred(_) -> maybe.

node() -> erlang:node().

thrower() -> throw(oops).

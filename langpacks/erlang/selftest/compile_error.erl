%% Must fail to compile: `Total` is never bound.
-module(main).
-export([main/0]).

main() ->
    io:format("~b~n", [Total]).

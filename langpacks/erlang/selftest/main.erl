%% Reads a name and n 64-bit integers; prints a greeting and their sum.
-module(main).
-export([main/0]).

main() ->
    ok = io:setopts(standard_io, [binary, {encoding, unicode}]),
    [Name, Count | Rest] = string:lexemes(read_all([]), " \t\r\n"),
    N = binary_to_integer(Count),
    Values = [binary_to_integer(Token) || Token <- lists:sublist(Rest, N)],
    io:format("Hello, ~ts!~n~b~n", [Name, lists:sum(Values)]).

read_all(Chunks) ->
    case io:get_chars(standard_io, "", 65536) of
        eof -> unicode:characters_to_binary(lists:reverse(Chunks));
        Chunk -> read_all([Chunk | Chunks])
    end.

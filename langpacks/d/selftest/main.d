// Reads a name and n 64-bit integers, then prints a greeting and their sum.
import std.algorithm : map, sum;
import std.array : split;
import std.conv : to;
import std.range : drop, take;
import std.stdio : stdin, writeln;

void main()
{
    // The input is UTF-8 text; split breaks it at any whitespace.
    string[] tokens;
    foreach (line; stdin.byLineCopy)
        tokens ~= line.split;
    auto name = tokens[0];
    auto n = tokens[1].to!size_t;
    long total = tokens.drop(2).take(n).map!(token => token.to!long).sum;
    writeln("Hello, ", name, "!");
    writeln(total);
}

# Reads a name and n 64-bit integers; prints a greeting and their sum.
[name, count | rest] = IO.read(:stdio, :eof) |> String.split()
total = rest |> Enum.take(String.to_integer(count)) |> Enum.map(&String.to_integer/1) |> Enum.sum()
IO.puts("Hello, #{name}!")
IO.puts(total)

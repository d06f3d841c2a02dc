# Must fail the syntax check: the `do` block is never closed.
defmodule Main do
  def main do
    IO.puts("Hello")
end

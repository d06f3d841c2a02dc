-- Reads a name and n 64-bit integers; prints a greeting and their sum.
-- Lua 5.4 integers are signed 64-bit, and `tonumber` keeps a decimal
-- token without a point or exponent as an integer.
local tokens = {}
for token in io.read("a"):gmatch("%S+") do
  tokens[#tokens + 1] = token
end
local name, n = tokens[1], tonumber(tokens[2])
local sum = 0
for i = 1, n do
  sum = sum + tonumber(tokens[2 + i])
end
io.write("Hello, ", name, "!\n", sum, "\n")

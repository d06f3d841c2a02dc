# Reads a name and n 64-bit integers; prints a greeting and their sum.
# Ruby integers are arbitrary-precision, so the sum cannot overflow.
tokens = $stdin.read.split
name = tokens[0]
n = Integer(tokens[1])
sum = tokens[2, n].sum { |token| Integer(token) }
puts "Hello, #{name}!"
puts sum

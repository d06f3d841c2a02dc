# Must fail `ruby -c`: the parameter list is never closed.
def greet(name
  puts "Hello, #{name}!"
end

// Must fail to compile: the closing parenthesis of the call is missing.
def count = 3
println(count

-- Must fail `luac5.4 -p`: the call's parenthesis is never closed.
print("Hello"

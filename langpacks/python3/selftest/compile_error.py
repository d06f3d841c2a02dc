# Must fail the syntax check: Python 2 print statement.
print "Hello"

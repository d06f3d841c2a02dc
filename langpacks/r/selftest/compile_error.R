# Must fail the syntax check: the call is never closed.
cat("Hello"

// Must fail the compile: a function statement needs a name, which is a
// syntax error (TS1003), not a type error.
function (input: string): string {
  return input;
}

// Must fail `node --check`: a function statement needs a name.
function (input) {
  return input;
}

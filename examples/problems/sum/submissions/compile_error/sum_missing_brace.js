// Compile error: the for loop's block is never closed.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
let sum = 0n;
for (let i = 1; i < tokens.length; i++) {
  sum += BigInt(tokens[i]);
console.log(sum.toString());

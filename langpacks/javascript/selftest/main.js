// Reads a name and n 64-bit integers; prints a greeting and their sum.
// BigInt keeps sums above 2^53 exact.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const name = tokens[0];
const n = Number(tokens[1]);
let sum = 0n;
for (let i = 0; i < n; i++) {
  sum += BigInt(tokens[2 + i]);
}
console.log(`Hello, ${name}!`);
console.log(sum.toString());

// BigInt keeps the sum exact above 2^53.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
let sum = 0n;
for (let i = 1; i <= n; i++) {
  sum += BigInt(tokens[i]);
}
console.log(sum.toString());

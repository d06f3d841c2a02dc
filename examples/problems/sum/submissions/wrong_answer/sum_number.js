// Wrong answer: a Number is a double, exact only up to 2^53, and the sums
// go up to 2 * 10^18.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
let sum = 0;
for (let i = 1; i <= n; i++) {
  sum += Number(tokens[i]);
}
console.log(BigInt(sum).toString());

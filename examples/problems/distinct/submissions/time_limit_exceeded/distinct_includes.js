// Time limit exceeded: Array.prototype.includes scans the whole array, so
// building the list of distinct values takes O(n^2) time.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
const distinct = [];
for (let i = 1; i <= n; i++) {
  const value = Number(tokens[i]);
  if (!distinct.includes(value)) {
    distinct.push(value);
  }
}
console.log(distinct.length);

const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
const seen = new Set();
for (let i = 1; i <= n; i++) {
  seen.add(Number(tokens[i]));
}
console.log(seen.size);

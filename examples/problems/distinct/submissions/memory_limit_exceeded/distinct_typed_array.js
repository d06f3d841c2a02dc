// Memory limit exceeded: one byte per possible value is 1 GB, and filling
// it with the "unseen" mark touches every page.
const UNSEEN = 255;
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
const seen = new Uint8Array(1_000_000_001).fill(UNSEEN);
let distinct = 0;
for (let i = 1; i <= n; i++) {
  const value = Number(tokens[i]);
  if (seen[value] === UNSEEN) {
    seen[value] = 1;
    distinct++;
  }
}
console.log(distinct);

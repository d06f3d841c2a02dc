// Run-time error: arrays have no last() method, so the call throws a
// TypeError and Node exits with status 1.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
const radii = tokens.slice(1, 1 + n).map(Number).sort((a, b) => a - b);
let best = radii[0] * radii[0];
for (let i = 1; i < n; i++) {
  best = Math.max(best, radii[i] * radii[i] - radii[i - 1] * radii[i - 1]);
}
console.log((Math.PI * best).toFixed(6), radii.last());

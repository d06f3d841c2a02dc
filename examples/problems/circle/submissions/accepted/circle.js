// Squares of radii up to 10^6 stay below 2^53, so Numbers are exact here.
const tokens = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const n = Number(tokens[0]);
const radii = Float64Array.from(tokens.slice(1, 1 + n), Number).sort();
let best = radii[0] * radii[0];
for (let i = 1; i < n; i++) {
  best = Math.max(best, radii[i] * radii[i] - radii[i - 1] * radii[i - 1]);
}
console.log((Math.PI * best).toFixed(6));

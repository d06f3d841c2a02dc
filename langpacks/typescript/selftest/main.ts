// Reads a name and n 64-bit integers; prints a greeting and their sum.
// BigInt keeps sums above 2^53 exact.
//
// The image has no type definitions for Node.js, so this program declares
// the one Node function it calls. `export {}` makes the file a module, and
// so its top-level names cannot clash with the DOM library's globals.
declare function require(module: "fs"): {
  readFileSync(fd: number, encoding: "utf8"): string;
};

const tokens: string[] = require("fs").readFileSync(0, "utf8").split(/\s+/).filter(Boolean);
const name: string = tokens[0];
const n: number = Number(tokens[1]);
let sum: bigint = 0n;
for (let i = 0; i < n; i++) {
  sum += BigInt(tokens[2 + i]);
}
console.log(`Hello, ${name}!`);
console.log(sum.toString());

export {};

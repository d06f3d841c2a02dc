// Reads a name and n 64-bit integers, then prints a greeting and their sum.
use std::io::{self, Read, Write};

fn main() {
    let mut text = String::new();
    io::stdin().read_to_string(&mut text).expect("stdin is UTF-8");
    let mut tokens = text.split_ascii_whitespace();
    let name = tokens.next().expect("a name");
    let n: usize = tokens.next().expect("a count").parse().expect("a number");
    let sum: i64 = tokens
        .take(n)
        .map(|token| token.parse::<i64>().expect("a 64-bit integer"))
        .sum();
    let mut out = io::BufWriter::new(io::stdout().lock());
    writeln!(out, "Hello, {name}!\n{sum}").expect("stdout is writable");
}

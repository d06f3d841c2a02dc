// Reads a name and n 64-bit integers, then prints a greeting and their sum.
// The name is UTF-8, so a wrong locale in the sandbox shows up here.
def tokens = System.in.text.trim().split(/\s+/)
def name = tokens[0]
int n = tokens[1] as int
long sum = 0L
for (int i = 0; i < n; i++) {
    sum += Long.parseLong(tokens[2 + i])
}
println "Hello, ${name}!"
println sum

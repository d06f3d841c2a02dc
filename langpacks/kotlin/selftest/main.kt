// Reads a name and n 64-bit integers, then prints a greeting and their sum.
// The name is UTF-8, so a wrong locale in the sandbox shows up here.
fun main() {
    val tokens = generateSequence(::readLine)
        .flatMap { it.split(' ', '\t').asSequence() }
        .filter { it.isNotEmpty() }
        .iterator()
    val name = tokens.next()
    val n = tokens.next().toInt()
    var sum = 0L
    repeat(n) { sum += tokens.next().toLong() }
    println("Hello, $name!")
    println(sum)
}

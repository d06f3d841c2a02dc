// Reads a name and n 64-bit integers, then prints a greeting and their sum.
// The name is UTF-8, so a wrong locale in the sandbox shows up here.
object Main {
  def main(args: Array[String]): Unit = {
    val tokens = scala.io.Source.stdin.getLines().flatMap(_.split("\\s+")).filter(_.nonEmpty)
    val name = tokens.next()
    val n = tokens.next().toInt
    var sum = 0L
    for (_ <- 0 until n) sum += tokens.next().toLong
    println(s"Hello, $name!")
    println(sum)
  }
}

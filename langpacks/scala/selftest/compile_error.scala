// Must fail to compile: a String cannot be assigned to an Int.
object Main {
  def main(args: Array[String]): Unit = {
    val count: Int = "three"
    println(count)
  }
}

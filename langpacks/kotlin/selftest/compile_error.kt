// Must fail to compile: a String cannot be assigned to an Int.
fun main() {
    val count: Int = "three"
    println(count)
}

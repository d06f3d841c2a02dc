// Must fail to compile: an imported package that is never used.
package main

import "os"

func main() {
}

// Reads a name and n 64-bit integers, then prints a greeting and their sum.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Split(bufio.ScanWords)
	next := func() string {
		if !in.Scan() {
			fmt.Fprintln(os.Stderr, "unexpected end of input")
			os.Exit(1)
		}
		return in.Text()
	}
	name := next()
	n, err := strconv.Atoi(next())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var sum int64
	for i := 0; i < n; i++ {
		value, err := strconv.ParseInt(next(), 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sum += value
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprintf(out, "Hello, %s!\n%d\n", name, sum)
}

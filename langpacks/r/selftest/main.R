# Reads a name and n 64-bit integers; prints a greeting and their sum.
# R's own integers are 32-bit and its doubles lose digits above 2^53, so
# the sum uses bit64's integer64.
suppressPackageStartupMessages(library(bit64))

tokens <- scan(file("stdin"), what = character(), quiet = TRUE)
name <- tokens[1]
n <- as.integer(tokens[2])
values <- as.integer64(head(tokens[-(1:2)], n))
cat("Hello, ", name, "!\n", sep = "")
cat(as.character(sum(values)), "\n", sep = "")

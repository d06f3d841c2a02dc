#lang racket/base
;; Reads a name and n 64-bit integers; prints a greeting and their sum.
(require racket/string)

(define name (string-trim (read-line)))
(define n (read))
(define total
  (for/fold ([sum 0]) ([_ (in-range n)])
    (+ sum (read))))
(printf "Hello, ~a!\n~a\n" name total)

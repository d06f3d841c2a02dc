;;; Reads a name and n 64-bit integers; prints a greeting and their sum.
(use-modules (ice-9 rdelim))

(define (read-sum count total)
  (if (zero? count)
      total
      (read-sum (- count 1) (+ total (read)))))

(let* ((name (string-trim-both (read-line)))
       (count (read)))
  (display (string-append "Hello, " name "!\n"))
  (display (read-sum count 0))
  (newline))

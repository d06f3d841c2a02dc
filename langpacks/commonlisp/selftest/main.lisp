;;; Reads a name and n 64-bit integers; prints a greeting and their sum.
(let* ((name (read-line))
       (n (read))
       (total (loop repeat n sum (read))))
  (format t "Hello, ~a!~%~d~%" (string-trim " " name) total))

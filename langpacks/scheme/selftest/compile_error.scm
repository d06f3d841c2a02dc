;;; Must fail to compile: the form is never closed.
(display "Hello"

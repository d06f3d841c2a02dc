;;; Must fail to compile: the form is never closed.
(format t "Hello~%"

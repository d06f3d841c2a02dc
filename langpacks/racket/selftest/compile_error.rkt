#lang racket/base
;; Must fail to compile: `total` is never defined.
(displayln total)

;; Must fail the syntax check: the `let` form is never closed.
(let [count 3]
  (println count)

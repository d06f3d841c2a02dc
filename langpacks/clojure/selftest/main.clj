;; Reads a name and n 64-bit integers, then prints a greeting and their sum.
;; The name is UTF-8, so a wrong locale in the sandbox shows up here.
(require '[clojure.string :as str])

(let [tokens (remove str/blank? (str/split (slurp *in*) #"\s+"))
      [name n & numbers] tokens
      numbers (take (Long/parseLong n) numbers)]
  (println (str "Hello, " name "!"))
  ;; `+` throws on long overflow, so the sum stays an exact 64-bit integer.
  (println (reduce + (map #(Long/parseLong %) numbers))))

-- Must fail to compile: a String is not a number.
main :: IO ()
main = print (1 + "one")

-- Reads a name and n 64-bit integers, then prints a greeting and their sum.
-- String I/O decodes with the locale, so a sandbox without a UTF-8 LANG
-- fails on the name; Int64 shows a wrong word size.
import Data.Int (Int64)

main :: IO ()
main = do
  tokens <- words <$> getContents
  let name = head tokens
      n = read (tokens !! 1) :: Int
      values = map read (take n (drop 2 tokens)) :: [Int64]
  putStrLn ("Hello, " ++ name ++ "!")
  print (sum values)

(* Reads a name and n 64-bit integers, then prints a greeting and their sum.
   Int64 rather than the 63-bit native int, which would overflow here. *)
let () =
  Scanf.scanf " %s %d" (fun name n ->
      let sum = ref 0L in
      for _ = 1 to n do
        Scanf.scanf " %Ld" (fun value -> sum := Int64.add !sum value)
      done;
      Printf.printf "Hello, %s!\n%Ld\n" name !sum)

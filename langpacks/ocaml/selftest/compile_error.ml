(* Must fail to compile: an int added to a string. *)
let () = print_int (1 + "one")

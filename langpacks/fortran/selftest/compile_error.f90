! Must fail to compile: `total` is never declared under implicit none.
program main
  implicit none
  print *, total
end program main

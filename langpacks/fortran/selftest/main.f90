! Reads a name and n 64-bit integers, then prints a greeting and their sum.
program main
  use, intrinsic :: iso_fortran_env, only: int64
  implicit none
  character(len=64) :: name
  integer :: n, i
  integer(int64), allocatable :: values(:)

  ! List-directed reads: each READ starts on a new record, and one READ
  ! takes as many records as it needs.
  read (*, *) name
  read (*, *) n
  allocate (values(n))
  read (*, *) (values(i), i = 1, n)
  print '(a)', 'Hello, ' // trim(name) // '!'
  print '(i0)', sum(values)
end program main

{ Reads a name and n 64-bit integers, then prints a greeting and their sum. }
program Main;

var
  name: AnsiString;
  n, i: LongInt;
  value, sum: Int64;

begin
  { The name is alone on its line; the numbers are read as Int64. }
  ReadLn(name);
  Read(n);
  sum := 0;
  for i := 1 to n do
  begin
    Read(value);
    sum := sum + value;
  end;
  WriteLn('Hello, ', name, '!');
  WriteLn(sum);
end.

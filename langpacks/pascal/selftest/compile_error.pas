{ Must fail to compile: a string assigned to an integer. }
program Main;

var
  count: LongInt;

begin
  count := 'three';
  WriteLn(count);
end.

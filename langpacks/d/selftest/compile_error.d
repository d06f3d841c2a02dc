// Must fail to compile: a string cannot be assigned to an int.
void main()
{
    int count = "three";
}

// Must fail to compile: a string cannot be assigned to an int.
public static class Program
{
    public static void Main()
    {
        int count = "three";
        System.Console.WriteLine(count);
    }
}

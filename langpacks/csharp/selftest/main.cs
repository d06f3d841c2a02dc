// Reads a name and n 64-bit integers, then prints a greeting and their sum.
// The name is UTF-8, so a wrong locale in the sandbox shows up here.
using System;

public static class Program
{
    public static void Main()
    {
        string[] tokens = Console.In.ReadToEnd().Split(
            new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries);
        string name = tokens[0];
        int n = int.Parse(tokens[1]);
        long sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += long.Parse(tokens[2 + i]);
        }
        Console.WriteLine("Hello, " + name + "!");
        Console.WriteLine(sum);
    }
}

// Reads a name and n 64-bit integers; prints a greeting and their sum.
// The name is UTF-8, so a wrong locale in the sandbox shows up here.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder text = new StringBuilder();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            text.append(line).append(' ');
        }
        StringTokenizer tokens = new StringTokenizer(text.toString());
        String name = tokens.nextToken();
        int n = Integer.parseInt(tokens.nextToken());
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Long.parseLong(tokens.nextToken());
        }
        System.out.println("Hello, " + name + "!");
        System.out.println(sum);
    }
}

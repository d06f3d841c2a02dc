import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Wrong answer: the sum is kept in an int, which overflows above 2^31 - 1.
public class SumInt {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (int) Long.parseLong(tokens.nextToken());
        }
        System.out.println(sum);
    }
}

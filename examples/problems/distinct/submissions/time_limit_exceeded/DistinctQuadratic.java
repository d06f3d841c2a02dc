import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Time limit exceeded: compares each value with all earlier ones, about
// n^2 / 2 comparisons, or 10^10 for the largest test.
public class DistinctQuadratic {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        int[] values = new int[n];
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            values[i] = Integer.parseInt(tokens.nextToken());
            boolean seenBefore = false;
            for (int j = 0; j < i && !seenBefore; j++) {
                seenBefore = values[j] == values[i];
            }
            if (!seenBefore) {
                distinct++;
            }
        }
        System.out.println(distinct);
    }
}

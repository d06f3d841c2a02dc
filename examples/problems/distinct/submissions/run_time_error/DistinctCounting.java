import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Run-time error: a flag array sized for values up to 10^6 is indexed by
// values up to 10^9, which throws ArrayIndexOutOfBoundsException.
public class DistinctCounting {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        boolean[] seen = new boolean[1_000_001];
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            int value = Integer.parseInt(tokens.nextToken());
            if (!seen[value]) {
                seen[value] = true;
                distinct++;
            }
        }
        System.out.println(distinct);
    }
}

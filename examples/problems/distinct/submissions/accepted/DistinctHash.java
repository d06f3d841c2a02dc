import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.HashSet;
import java.util.Set;
import java.util.StringTokenizer;

public class DistinctHash {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        Set<Integer> seen = new HashSet<>(2 * n);
        for (int i = 0; i < n; i++) {
            seen.add(Integer.parseInt(tokens.nextToken()));
        }
        System.out.println(seen.size());
    }
}

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.Locale;
import java.util.StringTokenizer;

public class CircleSort {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        long[] radii = new long[n];
        for (int i = 0; i < n; i++) {
            radii[i] = Long.parseLong(tokens.nextToken());
        }
        Arrays.sort(radii);
        long best = radii[0] * radii[0];
        for (int i = 1; i < n; i++) {
            best = Math.max(best, radii[i] * radii[i] - radii[i - 1] * radii[i - 1]);
        }
        System.out.println(String.format(Locale.ROOT, "%.6f", Math.PI * best));
    }
}

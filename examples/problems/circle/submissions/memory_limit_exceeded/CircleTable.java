import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.Locale;
import java.util.StringTokenizer;

// Memory limit exceeded: precomputes the area for every radius up to
// 10^8 in rows of 10^6, 800 MB written row by row, so the heap fills up
// to -Xmx and the JVM throws OutOfMemoryError.
public class CircleTable {
    private static final int ROW = 1_000_000;

    public static void main(String[] args) throws IOException {
        double[][] area = new double[101][];
        for (int row = 0; row < area.length; row++) {
            area[row] = new double[ROW];
            for (int i = 0; i < ROW; i++) {
                double r = (double) row * ROW + i;
                area[row][i] = Math.PI * r * r;
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer tokens = new StringTokenizer(in.readLine());
        int[] radii = new int[n];
        for (int i = 0; i < n; i++) {
            radii[i] = Integer.parseInt(tokens.nextToken());
        }
        Arrays.sort(radii);
        double best = area[radii[0] / ROW][radii[0] % ROW];
        for (int i = 1; i < n; i++) {
            double outer = area[radii[i] / ROW][radii[i] % ROW];
            double inner = area[radii[i - 1] / ROW][radii[i - 1] % ROW];
            best = Math.max(best, outer - inner);
        }
        System.out.println(String.format(Locale.ROOT, "%.6f", best));
    }
}

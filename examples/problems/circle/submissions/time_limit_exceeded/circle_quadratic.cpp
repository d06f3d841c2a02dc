// Time limit exceeded: finds each circle's next larger radius by scanning
// all circles, about 4 * 10^10 steps for the largest test.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    int n = 0;
    std::cin >> n;
    std::vector<std::int64_t> radii(n);
    for (auto &radius : radii) {
        std::cin >> radius;
    }
    std::int64_t best = *std::min_element(radii.begin(), radii.end());
    best *= best;
    for (int i = 0; i < n; i++) {
        std::int64_t next = std::numeric_limits<std::int64_t>::max();
        for (int j = 0; j < n; j++) {
            if (radii[j] > radii[i] && radii[j] < next) {
                next = radii[j];
            }
        }
        if (next != std::numeric_limits<std::int64_t>::max()) {
            best = std::max(best, next * next - radii[i] * radii[i]);
        }
    }
    std::printf("%.6f\n", std::acos(-1.0) * static_cast<double>(best));
    return 0;
}

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);
    int n = 0;
    std::cin >> n;
    std::vector<std::int64_t> radii(n);
    for (auto &radius : radii) {
        std::cin >> radius;
    }
    std::sort(radii.begin(), radii.end());
    std::int64_t best = radii[0] * radii[0];
    for (int i = 1; i < n; i++) {
        best = std::max(best, radii[i] * radii[i] - radii[i - 1] * radii[i - 1]);
    }
    std::printf("%.6f\n", std::acos(-1.0) * static_cast<double>(best));
    return 0;
}

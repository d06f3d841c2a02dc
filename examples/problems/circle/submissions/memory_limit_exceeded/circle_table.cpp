// Memory limit exceeded: precomputes the area for every radius up to
// 10^8, a table of 800 MB that is written in full, against 256 MiB.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

int main() {
    const int table_size = 100'000'001;
    std::vector<double> area(table_size);
    for (int r = 0; r < table_size; r++) {
        area[r] = std::acos(-1.0) * static_cast<double>(r) * r;
    }
    int n = 0;
    std::cin >> n;
    std::vector<int> radii(n);
    for (auto &radius : radii) {
        std::cin >> radius;
    }
    std::sort(radii.begin(), radii.end());
    double best = area[radii[0]];
    for (int i = 1; i < n; i++) {
        best = std::max(best, area[radii[i]] - area[radii[i - 1]]);
    }
    std::printf("%.6f\n", best);
    return 0;
}

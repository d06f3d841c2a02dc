// Wrong answer: std::unique removes only consecutive duplicates, and the
// values are not sorted first.
#include <algorithm>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    int n = 0;
    std::cin >> n;
    std::vector<int> values(n);
    for (auto &value : values) {
        std::cin >> value;
    }
    auto end = std::unique(values.begin(), values.end());
    std::cout << (end - values.begin()) << '\n';
    return 0;
}

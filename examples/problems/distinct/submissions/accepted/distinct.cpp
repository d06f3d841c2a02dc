#include <algorithm>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    std::cin.tie(nullptr);
    int n = 0;
    std::cin >> n;
    std::vector<int> values(n);
    for (auto &value : values) {
        std::cin >> value;
    }
    std::sort(values.begin(), values.end());
    auto end = std::unique(values.begin(), values.end());
    std::cout << (end - values.begin()) << '\n';
    return 0;
}

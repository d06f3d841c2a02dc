// Run-time error: reads n values into a vector sized 100000 with at(),
// which throws std::out_of_range when n is larger. The uncaught exception
// aborts the program.
#include <cstdint>
#include <iostream>
#include <vector>

int main() {
    std::ios::sync_with_stdio(false);
    int n = 0;
    std::cin >> n;
    std::vector<std::int64_t> values(100000);
    std::int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        std::cin >> values.at(i);
        sum += values.at(i);
    }
    std::cout << sum << '\n';
    return 0;
}

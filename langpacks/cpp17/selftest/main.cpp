// Reads a name and n 64-bit integers; prints a greeting and their sum.
#include <cstdint>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

int main() {
    std::string name;
    std::size_t n = 0;
    if (!(std::cin >> name >> n)) {
        return 1;
    }
    std::vector<std::int64_t> values(n);
    for (auto &value : values) {
        std::cin >> value;
    }
    std::int64_t sum = std::accumulate(values.begin(), values.end(), std::int64_t{0});
    std::cout << "Hello, " << name << "!\n" << sum << "\n";
    return 0;
}

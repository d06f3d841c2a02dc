// Compile error: a variable declared with auto needs an initialiser.
#include <cstdio>
#include <iostream>

int main() {
    int n = 0;
    std::cin >> n;
    auto best;
    best = 3.141592653589793 * n * n;
    std::printf("%.6f\n", best);
    return 0;
}

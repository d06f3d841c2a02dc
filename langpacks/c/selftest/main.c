/* Reads a name and n 64-bit integers; prints a greeting and their sum. */
#include <stdio.h>

int main(void) {
    char name[64];
    int n;
    if (scanf("%63s %d", name, &n) != 2) {
        return 1;
    }
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        long long value;
        if (scanf("%lld", &value) != 1) {
            return 1;
        }
        sum += value;
    }
    printf("Hello, %s!\n%lld\n", name, sum);
    return 0;
}

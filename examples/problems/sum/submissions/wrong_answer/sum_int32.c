/* Wrong answer: a 32-bit int cannot hold values or sums above 2^31 - 1. */
#include <stdio.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    int sum = 0;
    for (int i = 0; i < n; i++) {
        long long value;
        if (scanf("%lld", &value) != 1) {
            return 1;
        }
        sum += (int)value;
    }
    printf("%d\n", sum);
    return 0;
}

#include <stdio.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) {
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
    printf("%lld\n", sum);
    return 0;
}

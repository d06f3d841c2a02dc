/* Time limit exceeded: compares each value with all earlier ones, about
   n^2 / 2 comparisons, or 10^10 for the largest test. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    int *values = malloc(sizeof *values * (size_t)n);
    if (values == NULL) {
        return 1;
    }
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        if (scanf("%d", &values[i]) != 1) {
            return 1;
        }
        int seen_before = 0;
        for (int j = 0; j < i; j++) {
            if (values[j] == values[i]) {
                seen_before = 1;
                break;
            }
        }
        distinct += !seen_before;
    }
    printf("%d\n", distinct);
    free(values);
    return 0;
}

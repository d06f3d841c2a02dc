#include <stdio.h>
#include <stdlib.h>

static int compare_ints(const void *a, const void *b) {
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    int *values = malloc(sizeof *values * (size_t)n);
    if (values == NULL) {
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (scanf("%d", &values[i]) != 1) {
            return 1;
        }
    }
    qsort(values, (size_t)n, sizeof *values, compare_ints);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || values[i] != values[i - 1]) {
            distinct++;
        }
    }
    printf("%d\n", distinct);
    free(values);
    return 0;
}

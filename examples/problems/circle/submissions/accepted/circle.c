#include <math.h>
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
    int *radii = malloc(sizeof *radii * (size_t)n);
    if (radii == NULL) {
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (scanf("%d", &radii[i]) != 1) {
            return 1;
        }
    }
    qsort(radii, (size_t)n, sizeof *radii, compare_ints);
    long long best = (long long)radii[0] * radii[0];
    for (int i = 1; i < n; i++) {
        long long outer = radii[i];
        long long inner = radii[i - 1];
        if (outer * outer - inner * inner > best) {
            best = outer * outer - inner * inner;
        }
    }
    printf("%.6f\n", M_PI * (double)best);
    free(radii);
    return 0;
}

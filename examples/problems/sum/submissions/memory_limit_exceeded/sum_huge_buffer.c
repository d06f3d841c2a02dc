/* Memory limit exceeded: marks a 1 GiB buffer "for the input" as unset
   (all bits 1) before reading, which touches every page, against a
   256 MiB limit. A zero fill could be turned into calloc by the compiler
   and touch nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_BYTES (1024UL * 1024 * 1024)

int main(void) {
    long long *values = malloc(BUFFER_BYTES);
    if (values == NULL) {
        return 1;
    }
    memset(values, 0xff, BUFFER_BYTES);
    int n;
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        if (scanf("%lld", &values[i]) != 1) {
            return 1;
        }
        sum += values[i];
    }
    printf("%lld\n", sum);
    free(values);
    return 0;
}

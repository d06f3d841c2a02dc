/* Compile error: the declaration of n lacks its semicolon. */
#include <math.h>
#include <stdio.h>

int main(void) {
    int n
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    printf("%.6f\n", M_PI * n);
    return 0;
}

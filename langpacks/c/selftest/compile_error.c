/* Must fail to compile: `total` is never declared. */
#include <stdio.h>

int main(void) {
    printf("%d\n", total);
    return 0;
}

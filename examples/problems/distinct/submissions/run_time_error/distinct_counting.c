/* Run-time error: a flag array sized for values up to 10^6 is indexed by
   values up to 10^9, which writes far outside it and ends in SIGSEGV. */
#include <stdio.h>

static unsigned char seen[1000001];

int main(void) {
    int n;
    if (scanf("%d", &n) != 1) {
        return 1;
    }
    int distinct = 0;
    for (int i = 0; i < n; i++) {
        int value;
        if (scanf("%d", &value) != 1) {
            return 1;
        }
        if (!seen[value]) {
            seen[value] = 1;
            distinct++;
        }
    }
    printf("%d\n", distinct);
    return 0;
}

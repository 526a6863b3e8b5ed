#include <stddef.h>
#include <stdlib.h>
int LLVMFuzzerTestOneInput(const unsigned char *d, size_t n) { if (n >= 3 && d[0] == 'b' && d[1] == 'o' && d[2] == 'm') abort(); return 0; }

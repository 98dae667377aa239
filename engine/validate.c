/* validate.c -- validators behind "check=" list options. */
#include "validate.h"

int fe_check_idcard(const char *s, size_t n)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10x98765432";
    int sum = 0;

    if (n != 18)
        return 0;
    for (int i = 0; i < 17; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        sum += (s[i] - '0') * w[i];
    }
    int year = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 + (s[9] - '0');
    int month = (s[10] - '0') * 10 + (s[11] - '0');
    int day = (s[12] - '0') * 10 + (s[13] - '0');
    if (year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    char last = s[17] == 'X' ? 'x' : s[17];
    return check[sum % 11] == last;
}

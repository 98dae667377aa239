/* validate.h -- checks in code for what a pattern alone cannot decide. */
#ifndef FE_VALIDATE_H
#define FE_VALIDATE_H

#include <stddef.h>

/* 1 if s[0..n) is an 18-character mainland ID-card number (17 digits and a
 * digit or 'x') with a plausible birth date and a valid ISO 7064 check digit. */
int fe_check_idcard(const char *s, size_t n);

#endif

/* strutil.c -- small string helpers shared by the config and list parsers. */
#include <ctype.h>
#include <string.h>

#include "strutil.h"

char *fe_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

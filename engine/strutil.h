/* strutil.h -- small string helpers shared by the config and list parsers. */
#ifndef FE_STRUTIL_H
#define FE_STRUTIL_H

/* Cut leading and trailing white space in place; returns the new start. */
char *fe_trim(char *s);

#endif

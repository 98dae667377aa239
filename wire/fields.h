/* fields.h -- the fields of a decision reply, private to the wire module.
 *
 * reply.c (msgpack) and json.c (JSON) both walk these tables, so the two
 * renderings of a decision have the same keys in the same order, and a new
 * field is one row here and one case in each. */
#ifndef FW_FIELDS_H
#define FW_FIELDS_H

#include "wire.h"

enum fw_field { F_DECISION, F_SUGGEST, F_LABEL, F_LABELS, F_MATCHES, F_WARNINGS, F_VERSION,
                F_DEGRADED, F_VIEWS, F_ELAPSED, F_NFIELDS };
enum fw_mfield { M_START, M_END, M_TERM, M_LABEL, M_ACTION, M_LIST, M_LINE, M_VIA,
                 M_CHAIN, M_NFIELDS };

extern const char *const fw_field_key[F_NFIELDS];
extern const char *const fw_mfield_key[M_NFIELDS];

/* 1 when field f of r is written: msgpack writes every field but views
 * (explain only); JSON also leaves out empty warnings, a nil degraded and
 * elapsed_us (time belongs to the service, not to the decision). */
int fw_field_present(const fw_reply *r, int f, int json);

/* The number of fields of a match: chain only in an explained reply
 * (explain: r->nviews > 0, the mark of one), as the last. */
int fw_mfield_count(int explain);

/* The string of a match's string field (term, label, action, list, via). */
const char *fw_mfield_str(const fw_match *m, int f);

#endif

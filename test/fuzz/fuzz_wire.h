/*-------------------------------------------------------------------------
 *
 * fuzz_wire.h
 *	  Between fuzz_wire.c (PostgreSQL headers) and fuzz_wire_req.c (em.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FUZZ_WIRE_H
#define FUZZ_WIRE_H

#include "cr_core.h"

typedef struct fuzz_parsed fuzz_parsed;

/*
 * Parse a Resolve request body into *out (*ok: whether it is valid); the
 * result points into the returned state, freed by fuzz_parsed_free.
 */
extern fuzz_parsed *fuzz_parse_request_text(const char *body, size_t len,
											cr_full_request *out, bool *ok);
extern void fuzz_parsed_free(fuzz_parsed *p);

#endif							/* FUZZ_WIRE_H */

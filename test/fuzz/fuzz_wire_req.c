/*-------------------------------------------------------------------------
 *
 * fuzz_wire_req.c
 *	  For fuzz_wire: a Resolve request body (JSON text) parsed the
 *	  emulator's way (em_parse_body, em_jv_convert, cr_parse_full_request),
 *	  in a translation unit of its own because em.h (json-c, libmicrohttpd)
 *	  and PostgreSQL's headers do not mix.
 *
 *-------------------------------------------------------------------------
 */
#include "em.h"
#include "fuzz_wire.h"

#include <stdlib.h>

struct fuzz_parsed
{
	em_arena	arena;
	json_object *root;
};

fuzz_parsed *
fuzz_parse_request_text(const char *body, size_t len, cr_full_request *out,
						bool *ok)
{
	fuzz_parsed *p = calloc(1, sizeof(fuzz_parsed));
	em_resp		r = {0};
	cr_error	err;

	if (p == NULL)
		abort();
	*ok = false;
	p->root = em_parse_body(body, len, &r);
	if (r.body)
	{
		em_resp_free(&r);
		return p;
	}
	*ok = cr_parse_full_request(em_jv_convert(&p->arena, p->root, body, len), out, &err);
	return p;
}

void
fuzz_parsed_free(fuzz_parsed *p)
{
	em_arena_free(&p->arena);
	json_object_put(p->root);
	free(p);
}

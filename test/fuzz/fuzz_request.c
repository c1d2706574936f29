/*-------------------------------------------------------------------------
 *
 * fuzz_request.c
 *	  libFuzzer target: a Resolve request body as JSON text.
 *
 * The text goes the emulator's way: em_parse_body (json-c, strict, UTF-8
 * validated), em_jv_convert (json-c -> cr_jv, with PostgreSQL-style number
 * texts), then every request parser of the core (cr_parse_full_request and
 * the part parsers on the same tree) and, for what parses, cr_rank over a
 * small fixed pool, checked against a naive model (fuzz_common.h).
 *
 *-------------------------------------------------------------------------
 */
#include "em.h"
#include "fuzz_common.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	em_resp		r = {0};
	em_arena	a = {NULL};
	json_object *root;
	const cr_jv *v;
	const char *body = (const char *) data;

	root = em_parse_body(body, size, &r);
	if (r.body)
	{
		/* rejected: a 400 (or 413) with the API's error body */
		FUZZ_CHECK(r.status == 400 || r.status == 413, "em_parse_body status %d", r.status);
		em_resp_free(&r);
		return 0;
	}
	v = em_jv_convert(&a, root, body, size);
	FUZZ_CHECK(v != NULL, "em_jv_convert returned NULL");
	if (v->type == CR_JV_NUMBER)
		FUZZ_CHECK(v->s != NULL && strlen(v->s) == v->len, "number text length");
	fuzz_parse_all(v);
	em_arena_free(&a);
	json_object_put(root);
	return 0;
}

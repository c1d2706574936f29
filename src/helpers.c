/*-------------------------------------------------------------------------
 *
 * helpers.c
 *	  Small SQL-callable helpers: new_id (TypeIDs from UUIDv7), is_valid_id,
 *	  sticky_score, calling_code and tags_are_valid.
 *
 * new_id keeps per-backend state (the last millisecond and counter) so the
 * ids one backend mints are strictly increasing (RFC 9562 method 1: a
 * 12-bit counter in rand_a, seeded randomly each millisecond); uniqueness
 * across backends rests on the 62 random bits of rand_b.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/time.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "comms_resolve.h"

static uint64 last_ms = 0;
static uint16 last_counter = 0;

static void
fill_random(void *buf, size_t len)
{
	if (!pg_strong_random(buf, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random values")));
}

/* A UUIDv7 whose ordering is monotonic within this backend. */
static void
make_uuidv7(uint8 uuid[16])
{
	struct timeval tv;
	uint64		ms;
	uint16		counter;

	gettimeofday(&tv, NULL);
	ms = (uint64) tv.tv_sec * 1000 + tv.tv_usec / 1000;
	fill_random(uuid, 16);
	if (ms > last_ms)
		counter = (uint16) (((uuid[6] << 8) | uuid[7]) & 0x07FF);	/* leave room to count */
	else
	{
		/* same millisecond, or the clock went back: keep counting */
		ms = last_ms;
		counter = last_counter + 1;
		if (counter > 0x0FFF)
		{
			ms++;
			counter = (uint16) (((uuid[6] << 8) | uuid[7]) & 0x07FF);
		}
	}
	last_ms = ms;
	last_counter = counter;

	for (int i = 0; i < 6; i++)
		uuid[i] = (uint8) (ms >> (40 - 8 * i));
	uuid[6] = (uint8) (0x70 | (counter >> 8));
	uuid[7] = (uint8) (counter & 0xFF);
	uuid[8] = (uint8) (0x80 | (uuid[8] & 0x3F));
}

PG_FUNCTION_INFO_V1(comms_resolve_new_id);

/* new_id(prefix text) returns text */
Datum
comms_resolve_new_id(PG_FUNCTION_ARGS)
{
	text	   *prefix = PG_GETARG_TEXT_PP(0);
	int			plen = VARSIZE_ANY_EXHDR(prefix);
	uint8		uuid[16];
	char		suffix[27];
	text	   *out;
	char	   *p;

	if (!cr_is_typeid_prefix(VARDATA_ANY(prefix), plen))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid TypeID prefix \"%s\"", cr_text_excerpt(prefix)),
				 errhint("A prefix is 1 to 63 lower-case letters or underscores, starting and ending with a letter, such as comms_sender.")));
	make_uuidv7(uuid);
	cr_typeid_suffix(uuid, suffix);

	out = palloc(VARHDRSZ + plen + 1 + 26);
	SET_VARSIZE(out, VARHDRSZ + plen + 1 + 26);
	p = VARDATA(out);
	memcpy(p, VARDATA_ANY(prefix), plen);
	p[plen] = '_';
	memcpy(p + plen + 1, suffix, 26);
	PG_RETURN_TEXT_P(out);
}

PG_FUNCTION_INFO_V1(comms_resolve_is_valid_id);

/* is_valid_id(prefix text, id text) returns boolean */
Datum
comms_resolve_is_valid_id(PG_FUNCTION_ARGS)
{
	char	   *prefix = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *id = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(cr_is_typeid(prefix, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id)));
}

PG_FUNCTION_INFO_V1(comms_resolve_sticky_score);

/* sticky_score(to_address text, sender_id text) returns numeric */
Datum
comms_resolve_sticky_score(PG_FUNCTION_ARGS)
{
	text	   *addr = PG_GETARG_TEXT_PP(0);
	text	   *sid = PG_GETARG_TEXT_PP(1);
	uint64		h = cr_sticky_score(VARDATA_ANY(addr), VARSIZE_ANY_EXHDR(addr),
									VARDATA_ANY(sid), VARSIZE_ANY_EXHDR(sid));
	char		buf[32];

	snprintf(buf, sizeof(buf), UINT64_FORMAT, h);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

PG_FUNCTION_INFO_V1(comms_resolve_calling_code);

/* calling_code(address text) returns integer, NULL when none */
Datum
comms_resolve_calling_code(PG_FUNCTION_ARGS)
{
	text	   *addr = PG_GETARG_TEXT_PP(0);
	int			digits;
	int			code = cr_calling_code(VARDATA_ANY(addr), VARSIZE_ANY_EXHDR(addr), &digits);

	if (code == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(code);
}

/* A tag key or value: 1..max characters of [a-zA-Z0-9._~-]. */
static bool
tag_text_ok(const char *s, int len, int max)
{
	if (len < 1 || len > max)
		return false;
	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '~' || c == '-'))
			return false;
	}
	return true;
}

PG_FUNCTION_INFO_V1(comms_resolve_tags_are_valid);

/*
 * tags_are_valid(tags jsonb) returns boolean: an object of at most 10
 * pairs, keys of 1..128 and string values of 1..256 characters, both from
 * [a-zA-Z0-9._~-] (the API's Tags).  In C because the table constraints
 * call it for every row written, syncs included.
 */
Datum
comms_resolve_tags_are_valid(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (JB_ROOT_IS_SCALAR(jb) || !JB_ROOT_IS_OBJECT(jb) || JB_ROOT_COUNT(jb) > 10)
		PG_RETURN_BOOL(false);
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY && !tag_text_ok(v.val.string.val, v.val.string.len, 128))
			PG_RETURN_BOOL(false);
		if (tok == WJB_VALUE &&
			(v.type != jbvString || !tag_text_ok(v.val.string.val, v.val.string.len, 256)))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

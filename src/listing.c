/*-------------------------------------------------------------------------
 *
 * listing.c
 *	  Read-only remote listing functions: the account's senders and pools
 *	  as rows shaped like the local tables, following every page.
 *
 *	 remote_senders(channel, status)			GET /Senders
 *	 remote_sender(sender_id)					GET /Senders/{id}
 *	 remote_search_senders(address, channel, status)
 *												POST /Senders/Search
 *	 remote_sender_pools()						GET /SenderPools
 *	 remote_sender_pool(sender_pool_id)			GET /SenderPools/{id}
 *	 remote_pool_members(sender_pool_id, channel, status)
 *												GET /SenderPools/{id}/Senders
 *
 * Rows go into the materialized result's tuplestore page by page; a page's
 * body, parse and rows live in a memory context reset before the next
 * page, so memory stays bounded by one page plus the tuplestore, which
 * spills to disk past work_mem.  Rows come out in the API's order; the
 * API documents none, so callers that need one add ORDER BY.  Each page
 * after the first reports progress as a NOTICE; a page token seen before
 * (a cycle) is a malformed answer.  Fetching one object that
 * does not exist (404) gives no row, as a lookup would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "comms_resolve.h"

typedef enum ListKind
{
	LIST_GET,					/* GET path?query */
	LIST_SEARCH					/* POST /Senders/Search with a body */
} ListKind;

typedef struct ListSpec
{
	ListKind	kind;
	const char *what;			/* for messages: "senders", ... */
	const char *path;			/* "/Senders", ... */
	const char *items_key;		/* "senders", "senderPools", or NULL: one object */
	bool		pool;			/* SenderPool objects, not Senders */
	/* filters (NULL when absent) */
	const char *channel;
	const char *status;
	const char *address;		/* LIST_SEARCH */
} ListSpec;

/* Percent-encode s for a query string (RFC 3986 unreserved kept). */
static void
append_encoded(StringInfo buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~')
			appendStringInfoChar(buf, c);
		else
			appendStringInfo(buf, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

/* Append key=value to a query string that ends with '?' or a parameter. */
static void
append_param(StringInfo buf, const char *key, const char *value)
{
	if (value == NULL)
		return;
	if (buf->data[buf->len - 1] != '?')
		appendStringInfoChar(buf, '&');
	appendStringInfo(buf, "%s=", key);
	append_encoded(buf, value);
}

static Datum
timestamptz_datum(const char *s)
{
	return DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* Put one row, shaped like comms_resolve.senders or .sender_pools. */
static void
put_row(ReturnSetInfo *rsinfo, const CrInventoryRow *r, bool pool)
{
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};
	Datum		tags = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->tags));

	if (pool)
	{
		/* id, name, tags, created_at, updated_at */
		values[0] = CStringGetTextDatum(r->id);
		values[1] = CStringGetTextDatum(r->name);
		values[2] = tags;
		values[3] = timestamptz_datum(r->created_at);
		values[4] = timestamptz_datum(r->updated_at);
	}
	else
	{
		/* id, display_name, address, channel, status, tags, created_at, updated_at */
		values[0] = CStringGetTextDatum(r->id);
		nulls[1] = (r->display_name == NULL);
		values[1] = nulls[1] ? (Datum) 0 : CStringGetTextDatum(r->display_name);
		values[2] = CStringGetTextDatum(r->address);
		values[3] = CStringGetTextDatum(r->channel);
		values[4] = CStringGetTextDatum(r->status);
		values[5] = tags;
		values[6] = timestamptz_datum(r->created_at);
		values[7] = timestamptz_datum(r->updated_at);
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Fetch every page of a listing (or the one object) into the function's
 * result.
 */
static void
list_all(FunctionCallInfo fcinfo, const ListSpec *spec)
{
	ReturnSetInfo *rsinfo;
	CrHttpConfig cfg;
	MemoryContext page_cxt,
				old;
	char	   *token = NULL;
	long		total = 0;
	HTAB	   *seen;
	HASHCTL		hctl;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	/* hashes of the page tokens followed: a token seen twice is a cycle */
	hctl.keysize = sizeof(uint64);
	hctl.entrysize = sizeof(uint64);
	hctl.hcxt = CurrentMemoryContext;
	seen = hash_create("comms_resolve page tokens", 64, &hctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	cr_remote_config(&cfg);
	page_cxt = AllocSetContextCreate(CurrentMemoryContext, "comms_resolve page",
									 ALLOCSET_DEFAULT_SIZES);

	for (int page = 1;; page++)
	{
		StringInfoData url;
		char	   *body = NULL;
		CrHttpResult res;
		CrInventoryRow *rows;
		char	   *next;
		int			n;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(page_cxt);
		initStringInfo(&url);
		appendStringInfoString(&url, spec->path);
		if (spec->kind == LIST_SEARCH)
			body = cr_wire_search_body(spec->address, spec->channel, spec->status, token,
									   cr_guc_page_size > 0 ? cr_guc_page_size : 50);
		else if (spec->items_key)
		{
			char		size[16];

			appendStringInfoChar(&url, '?');
			append_param(&url, "channel", spec->channel);
			append_param(&url, "status", spec->status);
			if (cr_guc_page_size > 0)
			{
				snprintf(size, sizeof(size), "%d", cr_guc_page_size);
				append_param(&url, "pageSize", size);
			}
			append_param(&url, "pageToken", token);
			if (url.data[url.len - 1] == '?')
				url.data[--url.len] = '\0';
		}
		cr_http_request(&cfg, spec->kind == LIST_SEARCH ? "POST" : "GET", url.data, body, &res);
		if (res.status == 404 && spec->items_key == NULL)
		{
			/* one object that does not exist: no row, like a lookup */
			MemoryContextSwitchTo(old);
			break;
		}
		if (res.status < 200 || res.status > 299)
			cr_wire_raise_status(&cfg, &res);
		n = cr_wire_parse_inventory(res.body, res.body_len, spec->items_key, spec->pool, &rows, &next);
		for (int i = 0; i < n; i++)
			put_row(rsinfo, &rows[i], spec->pool);
		total += n;
		if (page > 1)
			ereport(NOTICE,
					(errmsg("comms_resolve: fetched page %d of %s, %ld so far", page, spec->what, total)));
		if (next != NULL)
		{
			uint64		h = cr_fmix64(cr_fnv1a_update(CR_FNV_OFFSET, next, strlen(next)));
			bool		found;

			(void) hash_search(seen, &h, HASH_ENTER, &found);
			if (found)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("malformed response from the Comms API"),
						 errdetail_internal("Page %d of %s points back to a page already fetched.", page, spec->what)));
		}
		MemoryContextSwitchTo(old);

		if (token)
			pfree(token);
		token = next ? MemoryContextStrdup(CurrentMemoryContext, next) : NULL;
		MemoryContextReset(page_cxt);
		if (token == NULL)
			break;
	}
	MemoryContextDelete(page_cxt);
	hash_destroy(seen);
}

/* Argument checks: NULL or a sender channel / a status / an id. */
static const char *
channel_arg(FunctionCallInfo fcinfo, int argno, bool required)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a sender channel is required")));
		return NULL;
	}
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (cr_sender_channel_from_name(s, strlen(s)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sender channel \"%s\"", cr_text_excerpt(PG_GETARG_TEXT_PP(argno))),
				 errhint("Sender channels are SMS, RCS, EMAIL, WHATSAPP and PUSH.")));
	return s;
}

static const char *
status_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (strcmp(s, "ACTIVATED") != 0 && strcmp(s, "DEACTIVATED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sender status \"%s\"", cr_text_excerpt(PG_GETARG_TEXT_PP(argno))),
				 errhint("A status is ACTIVATED or DEACTIVATED.")));
	return s;
}

static const char *
id_arg(FunctionCallInfo fcinfo, int argno, const char *prefix, const char *what)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s id is required", what)));
	t = PG_GETARG_TEXT_PP(argno);
	if (!cr_is_typeid(prefix, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s id \"%s\"", what, cr_text_excerpt(t))));
	return text_to_cstring(t);
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_senders);

/* remote_senders(channel text, status text) returns setof senders */
Datum
comms_resolve_remote_senders(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_GET, "senders", "/Senders", "senders", false};

	spec.channel = channel_arg(fcinfo, 0, false);
	spec.status = status_arg(fcinfo, 1);
	list_all(fcinfo, &spec);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_sender);

/* remote_sender(sender_id text) returns setof senders (one row) */
Datum
comms_resolve_remote_sender(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_GET, "sender", NULL, NULL, false};

	spec.path = psprintf("/Senders/%s", id_arg(fcinfo, 0, CR_SENDER_PREFIX, "sender"));
	list_all(fcinfo, &spec);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_search_senders);

/* remote_search_senders(address text, channel text, status text) */
Datum
comms_resolve_remote_search_senders(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_SEARCH, "senders found", "/Senders/Search", "senders", false};

	if (PG_ARGISNULL(0) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(0)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an address to search for is required")));
	spec.address = text_to_cstring(PG_GETARG_TEXT_PP(0));
	spec.channel = channel_arg(fcinfo, 1, true);
	spec.status = status_arg(fcinfo, 2);
	list_all(fcinfo, &spec);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_sender_pools);

/* remote_sender_pools() returns setof sender_pools */
Datum
comms_resolve_remote_sender_pools(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_GET, "sender pools", "/SenderPools", "senderPools", true};

	list_all(fcinfo, &spec);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_sender_pool);

/* remote_sender_pool(sender_pool_id text) returns setof sender_pools */
Datum
comms_resolve_remote_sender_pool(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_GET, "sender pool", NULL, NULL, true};

	spec.path = psprintf("/SenderPools/%s", id_arg(fcinfo, 0, CR_POOL_PREFIX, "sender pool"));
	list_all(fcinfo, &spec);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(comms_resolve_remote_pool_members);

/* remote_pool_members(sender_pool_id text, channel text, status text) */
Datum
comms_resolve_remote_pool_members(PG_FUNCTION_ARGS)
{
	ListSpec	spec = {LIST_GET, "pool members", NULL, "senders", false};

	spec.path = psprintf("/SenderPools/%s/Senders", id_arg(fcinfo, 0, CR_POOL_PREFIX, "sender pool"));
	spec.channel = channel_arg(fcinfo, 1, false);
	spec.status = status_arg(fcinfo, 2);
	list_all(fcinfo, &spec);
	return (Datum) 0;
}

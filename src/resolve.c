/*-------------------------------------------------------------------------
 *
 * resolve.c
 *	  The SQL-callable resolution functions: resolve, resolve_from_sender
 *	  and resolve_request, with the local resolver or the remote one.
 *
 * Each call validates all of its input before reading the inventory and
 * ranks before emitting anything, so an error never leaves a partial
 * result.  Per-call work happens in a memory context reset at the start of
 * the next call; per-statement state (the inventory, the parsed channel
 * controls of the previous call) lives in fn_extra.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "comms_resolve.h"

/* Per call site and executor run, in fn_extra. */
typedef struct CrCallState
{
	MemoryContext call_mcxt;	/* reset at the start of every call */
	CrInventory *inv;
	cr_request	req;

	/* the channels argument of the previous call, and what it parsed to */
	Jsonb	   *channels_copy;	/* NULL: none cached */
	bool		channels_was_null;
	bool		has_filter;
	unsigned	filter_mask;
	unsigned	listed_mask;
	int64_t		listed_priority[CR_SCH_COUNT];
	int64_t		max_listed;

	cr_pair    *pairs;
	int			pairs_cap;
} CrCallState;

static Datum sender_channel_text[CR_SCH_COUNT];
static Datum recipient_channel_text[CR_RCH_COUNT];

/* A text datum of a constant name, made once per backend in *slot. */
static Datum
name_datum(Datum *slot, const char *name)
{
	if (*slot == (Datum) 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*slot = CStringGetTextDatum(name);
		MemoryContextSwitchTo(old);
	}
	return *slot;
}

static Datum
cr_sender_channel_datum(cr_sender_channel ch)
{
	return name_datum(&sender_channel_text[ch], cr_sender_channel_name(ch));
}

static Datum
cr_recipient_channel_datum(cr_recipient_channel ch)
{
	return name_datum(&recipient_channel_text[ch], cr_recipient_channel_name(ch));
}

static CrCallState *
call_state(FunctionCallInfo fcinfo)
{
	CrCallState *st = (CrCallState *) fcinfo->flinfo->fn_extra;

	if (st == NULL)
	{
		MemoryContext fcxt = fcinfo->flinfo->fn_mcxt;

		st = MemoryContextAllocZero(fcxt, sizeof(CrCallState));
		st->call_mcxt = AllocSetContextCreate(fcxt, "comms_resolve call",
											  ALLOCSET_DEFAULT_SIZES);
		st->inv = cr_inventory_create(fcxt);
		fcinfo->flinfo->fn_extra = st;
	}
	MemoryContextReset(st->call_mcxt);
	return st;
}

/* The resolver argument, or the setting when it is NULL. */
static CrResolverKind
resolver_arg(FunctionCallInfo fcinfo, int argno)
{
	if (!PG_ARGISNULL(argno))
	{
		text	   *t = PG_GETARG_TEXT_PP(argno);
		const char *s = VARDATA_ANY(t);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (len == 5 && memcmp(s, "local", 5) == 0)
			return CR_RESOLVER_LOCAL;
		if (len == 6 && memcmp(s, "remote", 6) == 0)
			return CR_RESOLVER_REMOTE;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid resolver \"%s\"", cr_text_excerpt(t)),
				 errhint("The resolver is 'local', 'remote' or NULL for the setting comms_resolve.resolver.")));
	}
	return (CrResolverKind) cr_guc_resolver;
}

/*
 * Ask the Comms API: send the parsed request, return the validated results
 * sorted by priority and cut to max_results; *raw gets the response body.
 */
static int
remote_resolve(const cr_request *req, const char *pool_id, size_t pool_id_len,
			   const cr_sender_address *sender, CrRemoteResult **results,
			   char **raw)
{
	CrHttpConfig cfg;
	CrHttpResult res;
	char	   *body;
	int			n;

	cr_remote_config(&cfg);
	body = cr_wire_resolve_body(req, pool_id, pool_id_len, sender);
	cr_http_request(&cfg, "POST", "/Senders/Resolve", body, &res);
	if (res.status < 200 || res.status > 299)
		cr_wire_raise_status(&cfg, &res);
	n = cr_wire_parse_results(res.body, res.body_len, cr_guc_max_results, results);
	if (raw)
		*raw = res.body;
	return n;
}

/*
 * Emit remote results as rows of the resolve() result type, or with
 * person >= 0 of resolve_many's.
 */
static void
emit_remote_rows_for(ReturnSetInfo *rsinfo, const CrRemoteResult *r, int n, int person)
{
	int			o = (person >= 0) ? 1 : 0;

	for (int i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		values[0] = Int32GetDatum(person);
		values[o + 0] = CStringGetTextDatum(r[i].sender_id);
		nulls[o + 1] = (r[i].from_address == NULL);
		values[o + 1] = nulls[o + 1] ? (Datum) 0 : CStringGetTextDatum(r[i].from_address);
		values[o + 2] = CStringGetTextDatum(r[i].to_address);
		values[o + 3] = CStringGetTextDatum(r[i].channel);
		values[o + 4] = Int32GetDatum(r[i].priority);
		nulls[o + 5] = (r[i].display_name == NULL);
		values[o + 5] = nulls[o + 5] ? (Datum) 0 : CStringGetTextDatum(r[i].display_name);
		values[o + 6] = CStringGetTextDatum(r[i].to_channel);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* Parse the recipients argument (NULL is an error) into st->req. */
static void
parse_recipients_arg(FunctionCallInfo fcinfo, CrCallState *st, int argno)
{
	cr_error	err;

	cr_request_init(&st->req);
	if (!cr_parse_recipients(PG_ARGISNULL(argno) ? NULL : cr_jv_from_jsonb(PG_GETARG_JSONB_P(argno)),
							 "$.recipientAddresses", &st->req, &err))
		cr_report_error(&err);
}

/*
 * Parse the channels argument into st->req, reusing the previous call's
 * result when the argument is byte-for-byte the same (the usual case in a
 * join, where it is a constant).
 */
static void
parse_channels_arg(FunctionCallInfo fcinfo, CrCallState *st, int argno)
{
	bool		isnull = PG_ARGISNULL(argno);
	Jsonb	   *jb = isnull ? NULL : PG_GETARG_JSONB_P(argno);
	cr_request *req = &st->req;
	cr_error	err;

	if (st->channels_copy != NULL && st->channels_was_null == isnull &&
		(isnull || (VARSIZE(jb) == VARSIZE(st->channels_copy) &&
					memcmp(jb, st->channels_copy, VARSIZE(jb)) == 0)))
	{
		req->has_filter = st->has_filter;
		req->filter_mask = st->filter_mask;
		req->listed_mask = st->listed_mask;
		memcpy(req->listed_priority, st->listed_priority, sizeof(req->listed_priority));
		req->max_listed = st->max_listed;
		return;
	}
	if (!cr_parse_channels(isnull ? NULL : cr_jv_from_jsonb(jb), "$.channels", req, &err))
		cr_report_error(&err);

	if (st->channels_copy != NULL)
		pfree(st->channels_copy);
	st->channels_copy = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
										   isnull ? VARHDRSZ : VARSIZE(jb));
	if (isnull)
		SET_VARSIZE(st->channels_copy, VARHDRSZ);
	else
		memcpy(st->channels_copy, jb, VARSIZE(jb));
	st->channels_was_null = isnull;
	st->has_filter = req->has_filter;
	st->filter_mask = req->filter_mask;
	st->listed_mask = req->listed_mask;
	memcpy(st->listed_priority, req->listed_priority, sizeof(req->listed_priority));
	st->max_listed = req->max_listed;
}

/* Rank st->req over st->inv; returns the number of pairs in st->pairs. */
static int
rank(FunctionCallInfo fcinfo, CrCallState *st)
{
	int			max = cr_guc_max_results;
	int			n;
	cr_error	err;

	if (st->pairs_cap < max)
	{
		if (st->pairs)
			pfree(st->pairs);
		st->pairs = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(cr_pair) * max);
		st->pairs_cap = max;
	}
	n = cr_rank(&st->req, &st->inv->pool, max, st->pairs, &err);
	if (n < 0)
		cr_report_error(&err);
	return n;
}

/*
 * Emit ranked pairs as rows of the resolve() result type, or with person
 * >= 0 of resolve_many's, whose first column is the person.
 */
static void
emit_rows_for(FunctionCallInfo fcinfo, CrCallState *st, int n, int person)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		to_address[CR_MAX_RECIPIENTS];
	bool		to_done[CR_MAX_RECIPIENTS];
	int			o = (person >= 0) ? 1 : 0;

	memset(to_done, 0, sizeof(to_done));
	for (int i = 0; i < n; i++)
	{
		const cr_pair *p = &st->pairs[i];
		const cr_recipient *r = &st->req.recipients[p->recipient];
		const cr_sender *s = &st->inv->senders[p->sender];
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		if (!to_done[p->recipient])
		{
			to_address[p->recipient] = PointerGetDatum(cstring_to_text_with_len(r->address, r->len));
			to_done[p->recipient] = true;
		}
		values[0] = Int32GetDatum(person);
		values[o + 0] = st->inv->id_datum[p->sender];
		values[o + 1] = st->inv->address_datum[p->sender];
		values[o + 2] = to_address[p->recipient];
		values[o + 3] = cr_sender_channel_datum(s->channel);
		values[o + 4] = Int32GetDatum(p->priority);
		values[o + 5] = st->inv->display_datum[p->sender];
		nulls[o + 5] = st->inv->display_null[p->sender];
		values[o + 6] = cr_recipient_channel_datum(r->channel);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

PG_FUNCTION_INFO_V1(comms_resolve_resolve);

/*
 * resolve(sender_pool_id text, recipients jsonb, channels jsonb, resolver text)
 */
Datum
comms_resolve_resolve(PG_FUNCTION_ARGS)
{
	CrCallState *st;
	MemoryContext old;
	text	   *pool = NULL;
	CrResolverKind kind;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	st = call_state(fcinfo);
	old = MemoryContextSwitchTo(st->call_mcxt);

	kind = resolver_arg(fcinfo, 3);
	if (!PG_ARGISNULL(0))
	{
		cr_error	err;

		pool = PG_GETARG_TEXT_PP(0);
		if (!cr_check_pool_id(VARDATA_ANY(pool), VARSIZE_ANY_EXHDR(pool), "$.senderPoolId", &err))
			cr_report_error(&err);
	}
	parse_recipients_arg(fcinfo, st, 1);
	parse_channels_arg(fcinfo, st, 2);

	if (kind == CR_RESOLVER_REMOTE)
	{
		CrRemoteResult *results;

		n = remote_resolve(&st->req, pool ? VARDATA_ANY(pool) : NULL,
						   pool ? VARSIZE_ANY_EXHDR(pool) : 0, NULL, &results, NULL);
		emit_remote_rows_for((ReturnSetInfo *) fcinfo->resultinfo, results, n, -1);
		MemoryContextSwitchTo(old);
		return (Datum) 0;
	}
	if (pool)
		cr_inventory_load(st->inv, CR_SOURCE_POOL, VARDATA_ANY(pool), VARSIZE_ANY_EXHDR(pool), -1);
	else
		cr_inventory_load(st->inv, CR_SOURCE_ALL, "", 0, -1);

	n = rank(fcinfo, st);
	emit_rows_for(fcinfo, st, n, -1);
	MemoryContextSwitchTo(old);
	return (Datum) 0;
}

/* Load the one sender of form B, or report that it cannot be local. */
static void
load_sender(CrCallState *st, const cr_sender_address *sa)
{
	if (sa->is_push)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("push credential senders cannot be resolved locally"),
				 errdetail("At $.senderAddresses."),
				 errhint("The local inventory has no push credentials; use the remote resolver.")));
	cr_inventory_load(st->inv, CR_SOURCE_SENDER, sa->address, (int) sa->address_len, sa->channel);
}

PG_FUNCTION_INFO_V1(comms_resolve_resolve_from_sender);

/*
 * resolve_from_sender(sender jsonb, recipients jsonb, channels jsonb,
 *					   resolver text)
 */
Datum
comms_resolve_resolve_from_sender(PG_FUNCTION_ARGS)
{
	CrCallState *st;
	MemoryContext old;
	cr_sender_address sa;
	cr_error	err;
	CrResolverKind kind;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	st = call_state(fcinfo);
	old = MemoryContextSwitchTo(st->call_mcxt);

	kind = resolver_arg(fcinfo, 3);
	parse_recipients_arg(fcinfo, st, 1);
	parse_channels_arg(fcinfo, st, 2);
	if (!cr_parse_sender_address(PG_ARGISNULL(0) ? NULL : cr_jv_from_jsonb(PG_GETARG_JSONB_P(0)),
								 "$.senderAddresses", &sa, &err))
		cr_report_error(&err);
	if (kind == CR_RESOLVER_REMOTE)
	{
		CrRemoteResult *results;

		n = remote_resolve(&st->req, NULL, 0, &sa, &results, NULL);
		emit_remote_rows_for((ReturnSetInfo *) fcinfo->resultinfo, results, n, -1);
		MemoryContextSwitchTo(old);
		return (Datum) 0;
	}
	load_sender(st, &sa);

	n = rank(fcinfo, st);
	emit_rows_for(fcinfo, st, n, -1);
	MemoryContextSwitchTo(old);
	return (Datum) 0;
}

static void
push_key(JsonbParseState **ps, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(ps, WJB_KEY, &v);
}

static void
push_string(JsonbParseState **ps, const char *s, int len)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = len;
	pushJsonbValue(ps, WJB_VALUE, &v);
}

static void
push_text(JsonbParseState **ps, Datum d)
{
	text	   *t = DatumGetTextPP(d);

	push_string(ps, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/*
 * The API's answer as jsonb.  It was validated as the API's shape already;
 * what jsonb cannot hold in members we do not read (a \u0000, a number
 * past numeric's range) is still a malformed answer, 08P01, not the
 * input function's own error.  jsonb_in is a pure parser, so its error
 * can be replaced safely.
 */
static Datum
body_to_jsonb(char *raw)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		d = (Datum) 0;

	PG_TRY();
	{
		d = DirectFunctionCall1(jsonb_in, CStringGetDatum(raw));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed response from the Comms API"),
				 errdetail_internal("It cannot be stored as jsonb: %s", e->message)));
	}
	PG_END_TRY();
	return d;
}

PG_FUNCTION_INFO_V1(comms_resolve_resolve_request);

/*
 * resolve_request(request jsonb, resolver text) returns jsonb: the API's
 * Resolve response {"results": [...]} with the results in rank order.
 */
Datum
comms_resolve_resolve_request(PG_FUNCTION_ARGS)
{
	CrCallState *st;
	MemoryContext old;
	cr_full_request *fr;
	cr_error	err;
	JsonbParseState *ps = NULL;
	JsonbValue *res;
	JsonbValue	v;
	Jsonb	   *out;
	CrResolverKind kind;
	int			n;

	st = call_state(fcinfo);
	old = MemoryContextSwitchTo(st->call_mcxt);

	kind = resolver_arg(fcinfo, 1);
	fr = palloc(sizeof(cr_full_request));
	if (!cr_parse_full_request(PG_ARGISNULL(0) ? NULL : cr_jv_from_jsonb(PG_GETARG_JSONB_P(0)), fr, &err))
		cr_report_error(&err);
	st->req = fr->req;
	if (kind == CR_RESOLVER_REMOTE)
	{
		CrRemoteResult *results;
		char	   *raw;
		Datum		d;

		/* validated first; then the API's body itself is the answer */
		(void) remote_resolve(&st->req, fr->has_pool ? fr->pool_id : NULL, fr->pool_id_len,
							  fr->has_sender ? &fr->sender : NULL, &results, &raw);
		MemoryContextSwitchTo(old);
		d = body_to_jsonb(raw);
		PG_RETURN_DATUM(d);
	}
	if (fr->has_sender)
		load_sender(st, &fr->sender);
	else if (fr->has_pool)
		cr_inventory_load(st->inv, CR_SOURCE_POOL, fr->pool_id, (int) fr->pool_id_len, -1);
	else
		cr_inventory_load(st->inv, CR_SOURCE_ALL, "", 0, -1);
	n = rank(fcinfo, st);

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	push_key(&ps, "results");
	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
	{
		const cr_pair *p = &st->pairs[i];
		const cr_recipient *r = &st->req.recipients[p->recipient];
		const cr_sender *s = &st->inv->senders[p->sender];

		pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
		push_key(&ps, "from");
		pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
		push_key(&ps, "senderId");
		push_string(&ps, s->id, (int) s->id_len);
		push_key(&ps, "displayName");
		if (st->inv->display_null[p->sender])
		{
			v.type = jbvNull;
			pushJsonbValue(&ps, WJB_VALUE, &v);
		}
		else
			push_text(&ps, st->inv->display_datum[p->sender]);
		push_key(&ps, "channel");
		push_string(&ps, cr_sender_channel_name(s->channel), strlen(cr_sender_channel_name(s->channel)));
		push_key(&ps, "address");
		push_string(&ps, s->address, (int) s->address_len);
		pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
		push_key(&ps, "to");
		pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
		push_key(&ps, "address");
		push_string(&ps, r->address, (int) r->len);
		push_key(&ps, "channel");
		push_string(&ps, cr_recipient_channel_name(r->channel), strlen(cr_recipient_channel_name(r->channel)));
		pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
		push_key(&ps, "priority");
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(p->priority);
		pushJsonbValue(&ps, WJB_VALUE, &v);
		pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);

	MemoryContextSwitchTo(old);
	out = JsonbValueToJsonb(res);	/* in the caller's context */
	PG_RETURN_JSONB_P(out);
}

/* The person whose request is being handled, for error context lines. */
static void
person_context(void *arg)
{
	int			person = *(int *) arg;

	if (person >= 0)
		errcontext("person %d of resolve_many", person);
}

PG_FUNCTION_INFO_V1(comms_resolve_resolve_many);

/*
 * resolve_many(sender_pool_id text, people jsonb, channels jsonb,
 *				resolver text): the rows of resolve() for every person of
 * people (an array of recipient arrays), with the person's index first.
 *
 * Every person is validated before anything is ranked or sent.  Locally
 * each person is ranked over the one inventory read; remotely one Resolve
 * request per person goes out in a batch (max_concurrency in flight,
 * requests_per_second paced), and any failure raises one error naming the
 * person, with no rows at all.
 */
Datum
comms_resolve_resolve_many(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	CrCallState *st;
	MemoryContext old,
				person_cxt;
	text	   *pool = NULL;
	CrResolverKind kind;
	CrJsonbElems elems;
	const cr_jv *jv;
	volatile int person = -1;
	ErrorContextCallback errcb;
	cr_error	err;
	char		path[48];
	List	   *bodies = NIL;
	int			npeople = 0;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	st = call_state(fcinfo);
	old = MemoryContextSwitchTo(st->call_mcxt);

	kind = resolver_arg(fcinfo, 3);
	if (!PG_ARGISNULL(0))
	{
		pool = PG_GETARG_TEXT_PP(0);
		if (!cr_check_pool_id(VARDATA_ANY(pool), VARSIZE_ANY_EXHDR(pool), "$.senderPoolId", &err))
			cr_report_error(&err);
	}
	cr_request_init(&st->req);
	parse_channels_arg(fcinfo, st, 2);
	if (PG_ARGISNULL(1) || !cr_jsonb_array_begin(PG_GETARG_JSONB_P(1), &elems))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("people must be an array of recipient arrays"),
				 errdetail("At $.people."),
				 errhint("Each element of people is what resolve() takes as recipients, for one person.")));

	errcb.callback = person_context;
	errcb.arg = (void *) &person;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (kind == CR_RESOLVER_LOCAL)
	{
		if (pool)
			cr_inventory_load(st->inv, CR_SOURCE_POOL, VARDATA_ANY(pool), VARSIZE_ANY_EXHDR(pool), -1);
		else
			cr_inventory_load(st->inv, CR_SOURCE_ALL, "", 0, -1);
	}

	/* parse every person (and, locally, rank it) */
	person_cxt = AllocSetContextCreate(st->call_mcxt, "comms_resolve person", ALLOCSET_DEFAULT_SIZES);
	for (person = 0;; person++)
	{
		MemoryContextSwitchTo(person_cxt);
		MemoryContextReset(person_cxt);
		jv = cr_jsonb_array_next(&elems);
		if (jv == NULL)
			break;
		snprintf(path, sizeof(path), "$.people[%d]", person);
		if (!cr_parse_recipients(jv, path, &st->req, &err))
			cr_report_error(&err);
		if (kind == CR_RESOLVER_REMOTE)
		{
			char	   *body = cr_wire_resolve_body(&st->req, pool ? VARDATA_ANY(pool) : NULL,
													pool ? VARSIZE_ANY_EXHDR(pool) : 0, NULL);

			MemoryContextSwitchTo(st->call_mcxt);
			bodies = lappend(bodies, pstrdup(body));
		}
		else
		{
			int			n = rank(fcinfo, st);

			emit_rows_for(fcinfo, st, n, person);
		}
		npeople++;
	}
	person = -1;
	MemoryContextSwitchTo(st->call_mcxt);

	if (kind == CR_RESOLVER_REMOTE && npeople > 0)
	{
		CrHttpConfig cfg;
		CrHttpResult *results = palloc0(sizeof(CrHttpResult) * npeople);
		char	  **body_array = palloc(sizeof(char *) * npeople);
		int			failed;
		ListCell   *lc;
		int			i = 0;

		foreach(lc, bodies)
			body_array[i++] = (char *) lfirst(lc);
		cr_remote_config(&cfg);
		/* the batch sets failed before raising a transport error: name it */
		failed = -1;
		errcb.arg = (void *) &failed;
		cr_http_request_many(&cfg, "POST", "/Senders/Resolve", body_array, npeople,
							 cr_guc_max_concurrency, cr_guc_requests_per_second, true,
							 results, &failed);
		errcb.arg = (void *) &person;
		if (failed >= 0)
		{
			person = failed;
			cr_wire_raise_status(&cfg, &results[failed]);
		}
		/* all answered: validate every answer before the first row */
		{
			CrRemoteResult **rows = palloc(sizeof(CrRemoteResult *) * npeople);
			int		   *nrows = palloc(sizeof(int) * npeople);

			for (person = 0; person < npeople; person++)
				nrows[person] = cr_wire_parse_results(results[person].body, results[person].body_len,
													  cr_guc_max_results, &rows[person]);
			person = -1;
			for (int p = 0; p < npeople; p++)
				emit_remote_rows_for(rsinfo, rows[p], nrows[p], p);
		}
	}

	error_context_stack = errcb.previous;
	MemoryContextSwitchTo(old);
	return (Datum) 0;
}

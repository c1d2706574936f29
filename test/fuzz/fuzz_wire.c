/*-------------------------------------------------------------------------
 *
 * fuzz_wire.c
 *	  libFuzzer target: the extension's wire format (src/wire.c), compiled
 *	  unchanged against PostgreSQL 15's server headers with no server:
 *	  palloc and friends are tracked mallocs released after each input (a
 *	  memory context reset), and ereport(ERROR) longjmps back here as
 *	  PG_TRY would.  wire.c promises that json-c memory (malloc) is released
 *	  before any ereport; LeakSanitizer checks that on every path.
 *
 * The first byte selects (modulo 4), the rest is the input:
 *
 *	 0 a Resolve request body: parsed the emulator's way (fuzz_wire_req.c),
 *	   then cr_wire_resolve_body builds what the remote resolver sends, and
 *	   that body must parse again to the same request (recipients without
 *	   repeats, channel controls, pool or sender).
 *	 1 a Resolve response body: cr_wire_parse_results (results cut to 10 and
 *	   to 1000, sorted by priority, stable).
 *	 2 an error response: two bytes of HTTP status, then the body, through
 *	   cr_wire_raise_status, which must raise.
 *	 3 an inventory response: a byte choosing one Sender, one SenderPool, a
 *	   page of senders or of senderPools, then the body, through
 *	   cr_wire_parse_inventory; and cr_wire_search_body with the next token.
 *
 * Every message, detail and hint raised must be valid UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "comms_resolve.h"
#include "fuzz_wire.h"

#undef qsort
#undef snprintf
#undef vsnprintf
#undef fprintf
#undef vfprintf
#undef printf
#undef sprintf
#undef vsprintf
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2)))
static void
fail(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "FUZZ CHECK FAILED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/* ---------------------------------------------------------------------
 * The few PostgreSQL functions wire.c calls
 * ---------------------------------------------------------------------
 */
static void **chunks;			/* palloc'd memory of the current input */
static size_t n_chunks,
			cap_chunks;

static void *
track(void *p)
{
	if (p == NULL)
		abort();
	if (n_chunks == cap_chunks)
	{
		cap_chunks = cap_chunks ? cap_chunks * 2 : 64;
		chunks = realloc(chunks, sizeof(void *) * cap_chunks);
		if (chunks == NULL)
			abort();
	}
	chunks[n_chunks++] = p;
	return p;
}

static void
reset_memory(void)
{
	for (size_t i = 0; i < n_chunks; i++)
		free(chunks[i]);
	n_chunks = 0;
}

void *
palloc(Size size)
{
	return track(malloc(size ? size : 1));
}

void *
palloc0(Size size)
{
	return track(calloc(1, size ? size : 1));
}

char *
pstrdup(const char *in)
{
	return track(strdup(in));
}

char *
pnstrdup(const char *in, Size len)
{
	return track(strndup(in, len));
}

void
pg_qsort(void *base, size_t nel, size_t elsize, int (*cmp) (const void *, const void *))
{
	qsort(base, nel, elsize, cmp);
}

int
pg_snprintf(char *str, size_t count, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(str, count, fmt, ap);
	va_end(ap);
	return n;
}

/* The report being built, and where ERROR returns to. */
static struct
{
	int			elevel;
	int			sqlerrcode;
	char		message[1024];
	char		detail[1024];
	char		hint[1024];
	int			raised;
}			report;
static sigjmp_buf *error_jump;

bool
errstart(int elevel, const char *domain)
{
	(void) domain;
	memset(&report, 0, sizeof(report));
	report.elevel = elevel;
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	report.sqlerrcode = sqlerrcode;
	return 0;
}

#define FORMAT_INTO(buf, fmt) \
	do { va_list ap; va_start(ap, fmt); vsnprintf(buf, sizeof(buf), fmt, ap); va_end(ap); } while (0)

int
errmsg(const char *fmt,...)
{
	FORMAT_INTO(report.message, fmt);
	return 0;
}

int
errdetail_internal(const char *fmt,...)
{
	FORMAT_INTO(report.detail, fmt);
	return 0;
}

int
errhint(const char *fmt,...)
{
	FORMAT_INTO(report.hint, fmt);
	return 0;
}

static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		int			n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 :
			(*p & 0xF8) == 0xF0 ? 3 : -1;
		unsigned long cp = n == 0 ? *p : n == 1 ? (*p & 0x1F) : n == 2 ? (*p & 0x0F) : (*p & 0x07);

		if (n < 0)
			return false;
		for (int k = 1; k <= n; k++)
		{
			if ((p[k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[k] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		p += n + 1;
	}
	return true;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	(void) filename;
	(void) lineno;
	(void) funcname;
	CHECK(report.message[0] != '\0', "ereport without a message");
	CHECK(valid_utf8(report.message) && valid_utf8(report.detail) && valid_utf8(report.hint),
		  "ereport text is not valid UTF-8: \"%s\" / \"%s\" / \"%s\"",
		  report.message, report.detail, report.hint);
	if (report.elevel >= ERROR)
	{
		CHECK(error_jump != NULL, "ereport(ERROR) outside a guarded call");
		report.raised = 1;
		siglongjmp(*error_jump, 1);
	}
}

/*
 * Run stmt as in PG_TRY: true when it returned, false when it raised (the
 * report is in `report`).
 */
#define GUARDED(stmt) \
	({ sigjmp_buf jb_; bool ok_; error_jump = &jb_; \
	   if (sigsetjmp(jb_, 0) == 0) { stmt; ok_ = true; } else ok_ = false; \
	   error_jump = NULL; ok_; })

/* ---------------------------------------------------------------------
 * 0: request bodies
 * ---------------------------------------------------------------------
 */
static bool
same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b;
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
fuzz_resolve_body(const char *in, size_t len)
{
	cr_full_request *a = malloc(sizeof(cr_full_request));
	cr_full_request *b = malloc(sizeof(cr_full_request));
	bool		ok;
	fuzz_parsed *pa,
			   *pb = NULL;
	char	   *volatile body = NULL;

	if (a == NULL || b == NULL)
		abort();
	pa = fuzz_parse_request_text(in, len, a, &ok);
	if (ok)
	{
		bool		built = GUARDED(body = cr_wire_resolve_body(&a->req,
																a->has_pool ? a->pool_id : NULL,
																a->pool_id_len,
																a->has_sender ? &a->sender : NULL));

		CHECK(built && body != NULL, "cr_wire_resolve_body raised: %s", report.message);
		pb = fuzz_parse_request_text(body, strlen(body), b, &ok);
		CHECK(ok, "the wire body does not parse as a request: %s", body);
		CHECK(b->req.n_recipients == a->req.n_recipients, "recipients differ: %s", body);
		for (int i = 0; i < a->req.n_recipients; i++)
		{
			const cr_recipient *x = &a->req.recipients[i],
					   *y = &b->req.recipients[i];

			CHECK(x->channel == y->channel && same_bytes(x->address, x->len, y->address, y->len) &&
				  x->geo.code == y->geo.code && x->geo.area == y->geo.area &&
				  x->hash_prefix == y->hash_prefix, "recipient %d differs: %s", i, body);
		}
		CHECK(a->req.has_filter == b->req.has_filter && a->req.filter_mask == b->req.filter_mask,
			  "filterIn differs: %s", body);
		CHECK(a->req.listed_mask == b->req.listed_mask && a->req.max_listed == b->req.max_listed,
			  "priority differs: %s", body);
		for (int c = 0; c < CR_SCH_COUNT; c++)
			if (a->req.listed_mask & (1u << c))
				CHECK(a->req.listed_priority[c] == b->req.listed_priority[c], "priority of %d differs", c);
		CHECK(a->has_pool == b->has_pool &&
			  (!a->has_pool || same_bytes(a->pool_id, a->pool_id_len, b->pool_id, b->pool_id_len)),
			  "pool differs: %s", body);
		CHECK(a->has_sender == b->has_sender, "sender presence differs: %s", body);
		if (a->has_sender)
		{
			const cr_sender_address *x = &a->sender,
					   *y = &b->sender;

			CHECK(x->channel == y->channel && x->is_push == y->is_push &&
				  same_bytes(x->address, x->address_len, y->address, y->address_len) &&
				  same_bytes(x->name, x->name_len, y->name, y->name_len) &&
				  same_bytes(x->fcm, x->fcm_len, y->fcm, y->fcm_len) &&
				  same_bytes(x->apn, x->apn_len, y->apn, y->apn_len), "sender differs: %s", body);
		}
	}
	if (pb)
		fuzz_parsed_free(pb);
	fuzz_parsed_free(pa);
	free(a);
	free(b);
}

/* ---------------------------------------------------------------------
 * 1: Resolve responses
 * ---------------------------------------------------------------------
 */
static void
fuzz_results(const char *body, size_t len)
{
	static const int limits[] = {10, 1000};

	for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++)
	{
		CrRemoteResult *volatile res = NULL;
		volatile int n = -1;

		if (!GUARDED(n = cr_wire_parse_results(body, len, limits[k], (CrRemoteResult **) &res)))
		{
			CHECK(report.sqlerrcode == ERRCODE_PROTOCOL_VIOLATION, "results: unexpected SQLSTATE");
			continue;
		}
		CHECK(n >= 0 && n <= limits[k] && res != NULL, "results: %d of max %d", n, limits[k]);
		for (int i = 0; i < n; i++)
		{
			const CrRemoteResult *r = &res[i];

			CHECK(r->sender_id && r->sender_id[0] && r->channel && r->to_address && r->to_channel,
				  "result %d incomplete", i);
			CHECK(cr_sender_channel_from_name(r->channel, strlen(r->channel)) >= 0 &&
				  cr_recipient_channel_from_name(r->to_channel, strlen(r->to_channel)) >= 0,
				  "result %d: bad channel", i);
			CHECK(r->priority >= 0, "result %d: priority %d", i, r->priority);
			if (i > 0)
				CHECK(res[i - 1].priority < r->priority ||
					  (res[i - 1].priority == r->priority && res[i - 1].ord < r->ord),
					  "results not sorted by priority, stable, at %d", i);
		}
	}
}

/* ---------------------------------------------------------------------
 * 2: error responses
 * ---------------------------------------------------------------------
 */
static void
fuzz_status(const char *in, size_t len)
{
	CrHttpConfig cfg;
	CrHttpResult res;
	char	   *body;

	if (len < 2)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server_name = "comms";
	memset(&res, 0, sizeof(res));
	res.status = 100 + (((unsigned char) in[0] << 8) | (unsigned char) in[1]) % 500;
	res.attempts = 3;
	res.body_len = len - 2;
	body = palloc(res.body_len + 1);
	memcpy(body, in + 2, res.body_len);
	body[res.body_len] = '\0';
	res.body = body;
	CHECK(!GUARDED(cr_wire_raise_status(&cfg, &res)), "cr_wire_raise_status returned");
	CHECK(report.elevel >= ERROR && report.sqlerrcode != 0, "cr_wire_raise_status: no error code");
}

/* ---------------------------------------------------------------------
 * 3: inventory responses
 * ---------------------------------------------------------------------
 */
static void
fuzz_inventory(const char *in, size_t len)
{
	static const struct
	{
		const char *key;
		bool		pool;
	}			kinds[] = {
		{NULL, false}, {NULL, true}, {"senders", false}, {"senderPools", true},
	};
	int			k;
	CrInventoryRow *volatile rows = NULL;
	char	   *volatile next = NULL;
	volatile int n = -1;

	if (len < 1)
		return;
	k = (unsigned char) in[0] % 4;
	if (!GUARDED(n = cr_wire_parse_inventory(in + 1, len - 1, kinds[k].key, kinds[k].pool,
											 (CrInventoryRow **) &rows, (char **) &next)))
	{
		CHECK(report.sqlerrcode == ERRCODE_PROTOCOL_VIOLATION, "inventory: unexpected SQLSTATE");
		return;
	}
	CHECK(n >= 0 && (n == 0 || rows != NULL), "inventory: %d rows", n);
	CHECK(kinds[k].key != NULL || (n == 1 && next == NULL), "one object: %d rows", n);
	if (next)
		CHECK(next[0] != '\0' && strlen(next) <= 4096, "bad next token");
	for (int i = 0; i < n; i++)
	{
		const CrInventoryRow *r = &rows[i];

		CHECK(r->id && cr_is_typeid(kinds[k].pool ? CR_POOL_PREFIX : CR_SENDER_PREFIX, r->id, strlen(r->id)),
			  "row %d: id", i);
		CHECK(r->tags && r->created_at && r->updated_at, "row %d: incomplete", i);
		if (kinds[k].pool)
			CHECK(r->name != NULL, "row %d: no name", i);
		else
			CHECK(r->address && r->address[0] && r->channel && r->status &&
				  cr_sender_channel_from_name(r->channel, strlen(r->channel)) >= 0,
				  "row %d: incomplete sender", i);
	}
	if (next)
	{
		char	   *volatile sb = NULL;

		CHECK(GUARDED(sb = cr_wire_search_body("+15035551234", "SMS", "ACTIVATED", next, 50)) && sb,
			  "cr_wire_search_body raised");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *copy;

	if (size == 0)
		return 0;
	/* response bodies arrive NUL-terminated (CrHttpResult) */
	copy = palloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	switch (data[0] % 4)
	{
		case 0:
			fuzz_resolve_body(copy, size - 1);
			break;
		case 1:
			fuzz_results(copy, size - 1);
			break;
		case 2:
			fuzz_status(copy, size - 1);
			break;
		default:
			fuzz_inventory(copy, size - 1);
			break;
	}
	reset_memory();
	return 0;
}

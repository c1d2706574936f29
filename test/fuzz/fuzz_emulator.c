/*-------------------------------------------------------------------------
 *
 * fuzz_emulator.c
 *	  libFuzzer target: the emulator's parsers of outside input, called
 *	  directly.  The first input byte selects one (modulo 6), the rest is
 *	  its input:
 *
 *	 0 inventory JSON (PUT /_emulator/inventory, --inventory): em_parse_body,
 *	   em_inventory_from_json; a loaded inventory must be sorted and
 *	   consistent, and its JSON (em_inventory_to_json) must load again to
 *	   the same senders and pools.  Lookups and member changes on it.
 *	 1 fault rules (POST /_emulator/faults): em_faults_add, then
 *	   em_faults_take / em_fault_response / em_faults_to_json on them.
 *	 2 a listing's query string: em_query_from_url (through the stand-in
 *	   connection of fuzz_mhd.c), then the listing itself (senders, a pool's
 *	   senders, pools, operations; the selector is the next byte) and every
 *	   following page by its "next" token: ids must increase strictly across
 *	   pages.
 *	 3 as 2, but the page token is made from the text after the first
 *	   newline: "$F" in it becomes the listing's filter hash, and the text
 *	   is base64url-encoded, so tokens get past the hash check.
 *	 4 em_parse_time (checked against timegm when it accepts) and base64:
 *	   em_base64_decode, and round trips through em_base64url_encode.
 *	 5 tags (em_check_tags) of a JSON value.
 *
 * The shared state (em_inv, em_ops, ...) is comms_emulator.c's, compiled in
 * with its main renamed; the inventory is test/emulator/sample-inventory.json
 * plus three fixed operations.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"
#include "fuzz_common.h"
#include "fuzz_mhd.h"

#include <time.h>

#ifndef FUZZ_SAMPLE_INVENTORY
#error "define FUZZ_SAMPLE_INVENTORY as the path of sample-inventory.json"
#endif

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int			LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const op_ids[] = {
	"comms_operation_01h9krwprkeee8fzqspvwy6op1",
	"comms_operation_01h9krwprkeee8fzqspvwy6op2",
	"comms_operation_01h9krwprkeee8fzqspvwy6op3",
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char		err[512];

	(void) argc;
	(void) argv;
	em_inv = em_inventory_load_file(FUZZ_SAMPLE_INVENTORY, err, sizeof(err));
	if (em_inv == NULL)
	{
		fprintf(stderr, "fuzz_emulator: %s\n", err);
		abort();
	}
	snprintf(em_base_url, sizeof(em_base_url), "http://127.0.0.1:8080/v1");
	em_cap_ops = 4;
	em_ops = calloc((size_t) em_cap_ops, sizeof(em_operation));
	for (int i = 0; i < 3; i++)
	{
		em_ops[i].id = strdup(op_ids[i]);
		em_ops[i].pool_id = strdup("comms_senderpool_01h9krwprkeee8fzqspvwy6nq8");
		em_ops[i].total = 2;
		em_ops[i].created = 1;
		em_ops[i].failed = 1;
		em_ops[i].created_at = strdup("2024-03-02T10:00:00Z");
		em_parse_time(em_ops[i].created_at, &em_ops[i].created_ms);
	}
	em_n_ops = 3;
	return 0;
}

/* A response the emulator built: a status and, for errors, a JSON body. */
static void
check_resp(const em_resp *r)
{
	FUZZ_CHECK(r->status >= 200 && r->status <= 599, "response status %d", r->status);
	FUZZ_CHECK(r->body != NULL && r->len == strlen(r->body), "response body missing or with NUL");
}

/* ---------------------------------------------------------------------
 * 0: inventories
 * ---------------------------------------------------------------------
 */
static void
check_inventory(const em_inventory *inv)
{
	for (int i = 0; i < inv->n_senders; i++)
	{
		const em_sender *s = &inv->senders[i];

		FUZZ_CHECK(cr_is_typeid(CR_SENDER_PREFIX, s->id, strlen(s->id)), "sender id");
		FUZZ_CHECK(i == 0 || strcmp(inv->senders[i - 1].id, s->id) < 0, "senders not sorted/distinct");
		FUZZ_CHECK(s->address[0] != '\0', "empty sender address");
		FUZZ_CHECK(em_find_sender(inv, s->id) == s, "em_find_sender");
	}
	for (int i = 0; i < inv->n_pools; i++)
	{
		const em_pool *p = &inv->pools[i];

		FUZZ_CHECK(cr_is_typeid(CR_POOL_PREFIX, p->id, strlen(p->id)), "pool id");
		FUZZ_CHECK(i == 0 || strcmp(inv->pools[i - 1].id, p->id) < 0, "pools not sorted/distinct");
		FUZZ_CHECK(em_find_pool(inv, p->id) == p, "em_find_pool");
		for (int k = 0; k < p->n_members; k++)
		{
			FUZZ_CHECK(k == 0 || strcmp(p->members[k - 1], p->members[k]) < 0, "members not sorted/distinct");
			FUZZ_CHECK(em_find_sender(inv, p->members[k]) != NULL, "member is no sender");
			FUZZ_CHECK(em_pool_has_member(p, p->members[k]), "em_pool_has_member");
		}
	}
}

static void
fuzz_inventory(const char *body, size_t len)
{
	em_resp		r = {0};
	json_object *root = em_parse_body(body, len, &r);
	em_inventory *inv,
			   *again;
	char		err[512];
	char	   *text;
	size_t		tlen;
	json_object *out;

	if (r.body)
	{
		em_resp_free(&r);
		return;
	}
	err[0] = '\0';
	inv = em_inventory_from_json(root, err, sizeof(err));
	if (inv == NULL)
	{
		FUZZ_CHECK(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err), "no error message");
		json_object_put(root);
		return;
	}
	check_inventory(inv);

	/* what GET /_emulator/inventory answers, PUT must take back */
	out = em_inventory_to_json(inv);
	text = em_json_dup(out, &tlen);
	json_object_put(out);
	out = em_parse_body(text, tlen, &r);
	FUZZ_CHECK(r.body == NULL, "inventory JSON does not parse: %s", r.body);
	again = em_inventory_from_json(out, err, sizeof(err));
	FUZZ_CHECK(again != NULL, "inventory JSON does not load again: %s", err);
	FUZZ_CHECK(again->n_senders == inv->n_senders && again->n_pools == inv->n_pools,
			   "reloaded inventory differs");
	for (int i = 0; i < inv->n_senders; i++)
		FUZZ_CHECK(strcmp(again->senders[i].id, inv->senders[i].id) == 0 &&
				   strcmp(again->senders[i].address, inv->senders[i].address) == 0 &&
				   again->senders[i].channel == inv->senders[i].channel &&
				   again->senders[i].activated == inv->senders[i].activated &&
				   again->senders[i].created_ms == inv->senders[i].created_ms,
				   "reloaded sender %d differs", i);
	for (int i = 0; i < inv->n_pools; i++)
		FUZZ_CHECK(strcmp(again->pools[i].id, inv->pools[i].id) == 0 &&
				   again->pools[i].n_members == inv->pools[i].n_members,
				   "reloaded pool %d differs", i);
	em_inventory_free(again);
	json_object_put(out);
	free(text);

	/* member changes: remove and re-add each pool's first member */
	for (int i = 0; i < inv->n_pools; i++)
	{
		em_pool    *p = &inv->pools[i];

		if (p->n_members > 0)
		{
			char	   *id = strdup(p->members[0]);
			int			n = p->n_members;

			FUZZ_CHECK(em_pool_remove_member(p, id) && !em_pool_has_member(p, id) &&
					   p->n_members == n - 1, "em_pool_remove_member");
			em_pool_add_member(p, id);
			em_pool_add_member(p, id);
			FUZZ_CHECK(em_pool_has_member(p, id) && p->n_members == n, "em_pool_add_member");
			free(id);
		}
	}
	check_inventory(inv);
	if (inv->n_pools > 0)
		em_pool_delete(inv, &inv->pools[0]);
	check_inventory(inv);
	em_inventory_free(inv);
	json_object_put(root);
}

/* ---------------------------------------------------------------------
 * 1: fault rules
 * ---------------------------------------------------------------------
 */
static void
fuzz_faults(const char *body, size_t len)
{
	static const char *const reqs[][3] = {
		{"POST", "/v1/Senders/Resolve", "/v1/Senders/Resolve"},
		{"GET", "/v1/Senders", "/v1/Senders?pageSize=2"},
		{"get", "/v1/SenderPools", "/v1/SenderPools"},
		{"DELETE", "/v1/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8",
		"/v1/SenderPools/comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"},
		{"POST", "/v1/Senders/Resolve", "/v1/Senders/Resolve"},
		{"GET", "/v1", "/v1"},
	};
	em_resp		r = {0};
	json_object *root = em_parse_body(body, len, &r);
	int			first = -1,
				count = -1;

	if (r.body)
	{
		em_resp_free(&r);
		return;
	}
	if (fuzz_skip_fault_rules(root))
	{
		json_object_put(root);
		return;
	}
	if (!em_faults_add(root, &r, &first, &count))
	{
		check_resp(&r);
		FUZZ_CHECK(r.status == 400, "fault rules rejected with %d", r.status);
		em_resp_free(&r);
		json_object_put(root);
		return;
	}
	FUZZ_CHECK(first == 0 && count == (int) json_object_array_length(root), "em_faults_add counts");
	json_object_put(em_faults_to_json());
	for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++)
	{
		em_fault	f;
		em_resp		real = {0};
		struct MHD_Response *resp;
		int			status = 0;

		em_faults_take(reqs[k][0], reqs[k][1], &f);
		FUZZ_CHECK(f.index >= -1 && f.index < count, "fault index %d", f.index);
		if (k % 2)
			em_resp_error(&real, 404, "not here", NULL);
		else
			em_resp_json(&real, 200, json_object_new_object());
		resp = em_fault_response(&f, &real, reqs[k][2], &status);
		FUZZ_CHECK(resp != NULL && status >= 100 && status <= 599, "fault response status %d", status);
		FUZZ_CHECK(real.body == NULL && real.location == NULL, "em_fault_response did not consume r");
		MHD_destroy_response(resp);
		em_fault_free(&f);
	}
	json_object_put(em_faults_to_json());
	em_faults_clear();
	json_object_put(root);
}

/* ---------------------------------------------------------------------
 * 2, 3: listings and page tokens
 * ---------------------------------------------------------------------
 */
#define POOL_ID "comms_senderpool_01h9krwprkeee8fzqspvwy6nq8"

typedef enum listing
{
	L_SENDERS = 0,
	L_POOL_SENDERS,
	L_POOLS,
	L_OPERATIONS
} listing;

static void
run_listing(listing which, const em_list_query *q, const char *pool, em_resp *r)
{
	switch (which)
	{
		case L_SENDERS:
			em_list_senders(q, NULL, r);
			break;
		case L_POOL_SENDERS:
			em_list_senders(q, pool, r);
			break;
		case L_POOLS:
			em_list_pools(q, r);
			break;
		default:
			em_list_operations(q, r);
			break;
	}
}

/* Walk a listing page by page: ids increase strictly, pages end. */
static void
walk_pages(listing which, em_list_query *q, const char *pool)
{
	static const char *const arrays[] = {"senders", "senders", "senderPools", "operations"};
	char	   *last = NULL;
	char	   *token = NULL;
	const char *first_token = q->token;

	for (int page = 0; page < 64; page++)
	{
		em_resp		r = {0};
		json_object *o,
				   *arr,
				   *pg,
				   *next;

		run_listing(which, q, pool, &r);
		check_resp(&r);
		if (r.status != 200)
		{
			FUZZ_CHECK(page == 0 && (r.status == 400 || r.status == 404),
					   "listing page %d: status %d: %s", page, r.status, r.body);
			em_resp_free(&r);
			break;
		}
		o = json_tokener_parse(r.body);
		FUZZ_CHECK(o && json_object_object_get_ex(o, arrays[which], &arr) &&
				   json_object_is_type(arr, json_type_array) &&
				   json_object_object_get_ex(o, "pagination", &pg) &&
				   json_object_object_get_ex(pg, "next", &next),
				   "listing page %d is malformed: %s", page, r.body);
		FUZZ_CHECK((int) json_object_array_length(arr) <= q->page_size, "page larger than pageSize");
		for (size_t i = 0; i < json_object_array_length(arr); i++)
		{
			json_object *id;
			const char *s;

			FUZZ_CHECK(json_object_object_get_ex(json_object_array_get_idx(arr, i), "id", &id), "item without id");
			s = json_object_get_string(id);
			FUZZ_CHECK(last == NULL || strcmp(last, s) < 0, "listing ids not increasing: %s then %s", last, s);
			free(last);
			last = strdup(s);
		}
		free(token);
		token = next ? strdup(json_object_get_string(next)) : NULL;
		if (next)
			FUZZ_CHECK(json_object_array_length(arr) > 0, "empty page with a next token");
		json_object_put(o);
		em_resp_free(&r);
		if (token == NULL)
			break;
		q->token = token;
	}
	q->token = first_token;
	free(token);
	free(last);
}

static void
fuzz_listing(const char *in, size_t len, bool templated)
{
	struct MHD_Connection c;
	em_list_query q;
	em_resp		r = {0};
	listing		which;
	const char *nl;
	size_t		qlen;
	const char *pool;
	char	   *token = NULL;

	if (len == 0)
		return;
	which = (listing) ((unsigned char) in[0] % 4);
	in++, len--;
	nl = templated ? memchr(in, '\n', len) : NULL;
	qlen = nl ? (size_t) (nl - in) : len;
	fuzz_conn_init(&c);
	fuzz_conn_parse_query(&c, in, qlen);
	if (!em_query_from_url(&c, &q, which == L_OPERATIONS, &r))
	{
		check_resp(&r);
		FUZZ_CHECK(r.status == 400, "query rejected with %d", r.status);
		goto done;
	}
	pool = MHD_lookup_connection_value(&c, MHD_GET_ARGUMENT_KIND, "_pool");
	if (pool == NULL)
		pool = POOL_ID;
	if (which == L_POOL_SENDERS && !em_check_pool_id(pool, &r))
		goto done;
	q.address = MHD_lookup_connection_value(&c, MHD_GET_ARGUMENT_KIND, "_address");
	if (which != L_SENDERS)
		q.address = NULL;
	if (templated && nl)
	{
		const char *kind[] = {"senders", "pool-senders", "pools", "operations"};
		uint64_t	h = em_filter_hash(which == L_SENDERS && q.address ? "search" : kind[which],
									   which == L_POOL_SENDERS ? pool : NULL, &q);
		char		hex[17];
		const char *t = nl + 1;
		size_t		tlen = len - qlen - 1;
		char	   *json = malloc(tlen * 8 + 1);
		size_t		o = 0;

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) h);
		for (size_t i = 0; i < tlen; i++)
		{
			if (t[i] == '$' && i + 1 < tlen && t[i + 1] == 'F')
			{
				memcpy(json + o, hex, 16);
				o += 16;
				i++;
			}
			else
				json[o++] = t[i];
		}
		token = em_base64url_encode((const unsigned char *) json, o);
		free(json);
		q.token = token;
	}
	walk_pages(which, &q, pool);
done:
	em_resp_free(&r);
	free(token);
	fuzz_conn_free(&c);
}

/* ---------------------------------------------------------------------
 * 4: times and base64
 * ---------------------------------------------------------------------
 */
static int
num(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Recompute an accepted time with timegm. */
static void
check_time(const char *s, int64_t ms)
{
	struct tm	tm = {0};
	int64_t		want;
	int			frac = 0,
				off = 0;
	const char *p = s + 10;

	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2);
	if (*p)
	{
		tm.tm_hour = num(p + 1, 2);
		tm.tm_min = num(p + 4, 2);
		tm.tm_sec = num(p + 7, 2);
		p += 9;
		if (*p == '.')
		{
			int			n = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			for (; n < 3; n++)
				frac *= 10;
		}
		if (*p == '+' || *p == '-')
			off = (num(p + 1, 2) * 60 + num(p + 4, 2)) * (*p == '+' ? 1 : -1);
	}
	want = ((int64_t) timegm(&tm) - off * 60) * 1000 + frac;
	FUZZ_CHECK(want == ms, "em_parse_time(\"%s\") = %lld, timegm gives %lld", s, (long long) ms, (long long) want);
}

static void
fuzz_time_base64(const char *in, size_t len)
{
	char	   *s = strndup(in, len);
	int64_t		ms;
	unsigned char *dec;
	size_t		dlen;
	char	   *enc;

	if (s == NULL)
		abort();
	if (em_parse_time(s, &ms))
		check_time(s, ms);
	free(s);

	dec = em_base64_decode(in, len, &dlen);
	if (dec)
	{
		unsigned char *again;
		size_t		alen;

		FUZZ_CHECK(dlen <= len * 3 / 4, "base64 decoded too much");
		enc = em_base64url_encode(dec, dlen);
		again = em_base64_decode(enc, strlen(enc), &alen);
		FUZZ_CHECK(again && alen == dlen && memcmp(again, dec, dlen) == 0, "base64 round trip (decoded)");
		free(again);
		free(enc);
		free(dec);
	}
	enc = em_base64url_encode((const unsigned char *) in, len);
	dec = em_base64_decode(enc, strlen(enc), &dlen);
	FUZZ_CHECK(dec && dlen == len && memcmp(dec, in, len) == 0, "base64 round trip");
	free(dec);
	free(enc);
}

/* ---------------------------------------------------------------------
 * 5: tags
 * ---------------------------------------------------------------------
 */
static void
fuzz_tags(const char *body, size_t len)
{
	em_resp		r = {0};
	json_object *root = em_parse_body(body, len, &r);

	if (r.body == NULL)
	{
		if (!em_check_tags(root, "$.tags", &r))
		{
			check_resp(&r);
			FUZZ_CHECK(r.status == 400, "tags rejected with %d", r.status);
		}
		else
			FUZZ_CHECK(r.body == NULL, "accepted tags with an error body");
	}
	em_resp_free(&r);
	json_object_put(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data + 1;
	size_t		len = size - 1;

	if (size == 0)
		return 0;
	switch (data[0] % 6)
	{
		case 0:
			fuzz_inventory(in, len);
			break;
		case 1:
			fuzz_faults(in, len);
			break;
		case 2:
			fuzz_listing(in, len, false);
			break;
		case 3:
			fuzz_listing(in, len, true);
			break;
		case 4:
			fuzz_time_base64(in, len);
			break;
		default:
			fuzz_tags(in, len);
			break;
	}
	return 0;
}

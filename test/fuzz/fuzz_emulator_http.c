/*-------------------------------------------------------------------------
 *
 * fuzz_emulator_http.c
 *	  libFuzzer target: whole HTTP requests through the emulator's request
 *	  handler, as libmicrohttpd would deliver them, with no socket.
 *
 * comms_emulator.c is compiled into this file (its main renamed) so its
 * static request life cycle can be driven directly: uri_logger, then
 * handle() for the headers, the body (in two chunks) and the answer, then
 * completed().  That covers Basic authentication, the request log, fault
 * rules taking requests, /v1 routing and every API handler (Resolve,
 * Search, listings with their query strings and page tokens, pool writes),
 * the /_emulator/ control API (faults, log, inventory, config) and the
 * fault-shaped responses.  The connection is the stand-in of fuzz_mhd.c;
 * em_sleep_ms is replaced by one that returns at once (em_util.c is built
 * with its own renamed), so delay faults cost nothing.
 *
 * Input: up to 8 requests separated by a line "~~~":
 *
 *	   METHOD URI
 *	   Header-Name: value
 *	   ...
 *	   <empty line>
 *	   body
 *
 * The URI is taken as sent (path and query; the path is percent-decoded
 * for the handler, the query split into arguments as libmicrohttpd does).
 * Accepted credentials are ACfuzz:token.  State (inventory, fault rules,
 * operations, log, configuration) carries over between the requests of one
 * input and is reset after it: the inventory is sample-inventory.json.
 *
 *-------------------------------------------------------------------------
 */
#define main comms_emulator_main
#include "comms_emulator.c"
#undef main

#include "fuzz_common.h"
#include "fuzz_mhd.h"

#ifndef FUZZ_SAMPLE_INVENTORY
#error "define FUZZ_SAMPLE_INVENTORY as the path of sample-inventory.json"
#endif

#define MAX_REQUESTS 8
#define SEPARATOR "\n~~~\n"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int			LLVMFuzzerInitialize(int *argc, char ***argv);

static json_object *sample_root;
static credential fuzz_creds[1];

/* Delays and drips return at once (em_util.c's version is renamed away). */
bool
em_sleep_ms(int64_t ms)
{
	(void) ms;
	return true;
}

static void
load_sample(void)
{
	char		err[512];

	em_inv = em_inventory_from_json(sample_root, err, sizeof(err));
	if (em_inv == NULL)
	{
		fprintf(stderr, "fuzz_emulator_http: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	sample_root = json_object_from_file(FUZZ_SAMPLE_INVENTORY);
	if (sample_root == NULL)
	{
		fprintf(stderr, "fuzz_emulator_http: cannot read %s\n", FUZZ_SAMPLE_INVENTORY);
		abort();
	}
	load_sample();
	snprintf(em_base_url, sizeof(em_base_url), "http://127.0.0.1:8080/v1");
	fuzz_creds[0].user = "ACfuzz";
	fuzz_creds[0].secret = "token";
	creds = fuzz_creds;
	n_creds = 1;
	return 0;
}

/* Back to the start-up state. */
static void
reset_state(void)
{
	em_faults_clear();
	log_clear();
	for (int i = 0; i < em_n_ops; i++)
	{
		free(em_ops[i].id);
		free(em_ops[i].pool_id);
		free(em_ops[i].created_at);
	}
	free(em_ops);
	em_ops = NULL;
	em_n_ops = em_cap_ops = 0;
	em_inventory_free(em_inv);
	load_sample();
	em_page_size = 50;
	em_order = EM_ORDER_REVERSED;
	next_seq = 1;
	next_conn = 1;
}

/* A token libmicrohttpd would pass: printable ASCII, no space. */
static bool
token_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
			return false;
	return true;
}

/* One request: s[0..len) in the format above. */
static void
one_request(const char *s, size_t len)
{
	const char *eol = memchr(s, '\n', len);
	size_t		llen = eol ? (size_t) (eol - s) : len;
	const char *sp = memchr(s, ' ', llen);
	const char *p,
			   *end = s + len;
	char	   *method,
			   *uri,
			   *url;
	const char *q;
	struct MHD_Connection conn;
	void	   *con_cls;
	size_t		zero,
				body_len;
	const char *body;
	enum MHD_Result ret;
	int			calls = 0;

	if (sp == NULL || !token_ok(s, (size_t) (sp - s)) ||
		!token_ok(sp + 1, llen - (size_t) (sp + 1 - s)) || sp[1] != '/')
		return;
	method = strndup(s, (size_t) (sp - s));
	uri = strndup(sp + 1, llen - (size_t) (sp + 1 - s));
	fuzz_conn_init(&conn);
	q = strchr(uri, '?');
	url = fuzz_unescape(uri, q ? (size_t) (q - uri) : strlen(uri));
	if (q)
		fuzz_conn_parse_query(&conn, q + 1, strlen(q + 1));

	/* headers up to an empty line */
	p = eol ? eol + 1 : end;
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t) (le - p));

		if (le == p)
		{
			p = le + 1;
			break;
		}
		if (colon && colon > p)
		{
			const char *v = colon + 1;

			while (v < le && *v == ' ')
				v++;
			if (memchr(v, '\0', (size_t) (le - v)) == NULL && memchr(p, '\0', (size_t) (colon - p)) == NULL)
				fuzz_conn_add_header(&conn, p, (size_t) (colon - p), v, (size_t) (le - v));
		}
		p = nl ? nl + 1 : end;
	}
	body = p < end ? p : end;
	body_len = (size_t) (end - body);
	if (fuzz_ignored("fault-path-nul") && strcmp(url, "/_emulator/faults") == 0 && body_len < INT32_MAX)
	{
		json_tokener *tok = json_tokener_new();
		json_object *rules = json_tokener_parse_ex(tok, body, (int) body_len);
		bool		skip = fuzz_skip_fault_rules(rules);

		json_object_put(rules);
		json_tokener_free(tok);
		if (skip)
		{
			fuzz_conn_free(&conn);
			free(url);
			free(uri);
			free(method);
			return;
		}
	}

	/* the life cycle of one request, as libmicrohttpd drives it */
	con_cls = uri_logger(NULL, uri, &conn);
	zero = 0;
	ret = handle(NULL, &conn, url, method, "HTTP/1.1", NULL, &zero, &con_cls);
	calls++;
	if (ret == MHD_YES && body_len > 0)
	{
		size_t		half = body_len / 2;
		size_t		chunks[2] = {half, body_len - half};
		size_t		off = 0;

		for (int k = 0; k < 2 && ret == MHD_YES; k++)
		{
			size_t		n = chunks[k];

			if (n == 0)
				continue;
			ret = handle(NULL, &conn, url, method, "HTTP/1.1", body + off, &n, &con_cls);
			FUZZ_CHECK(n == 0, "handle left %zu bytes of upload data", n);
			FUZZ_CHECK(conn.queued == 0, "answered before the body was in");
			off += chunks[k];
		}
	}
	if (ret == MHD_YES)
	{
		zero = 0;
		ret = handle(NULL, &conn, url, method, "HTTP/1.1", NULL, &zero, &con_cls);
		if (ret == MHD_YES)
		{
			FUZZ_CHECK(conn.queued == 1, "request answered %d times", conn.queued);
			FUZZ_CHECK(conn.status >= 100 && conn.status <= 599, "status %u", conn.status);
		}
	}
	completed(NULL, &conn, &con_cls,
			  ret == MHD_YES ? MHD_REQUEST_TERMINATED_COMPLETED_OK : MHD_REQUEST_TERMINATED_WITH_ERROR);
	FUZZ_CHECK(con_cls == NULL, "completed left the request state");
	(void) calls;

	fuzz_conn_free(&conn);
	free(url);
	free(uri);
	free(method);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data,
			   *end = s + size;
	int			n = 0;

	while (s < end && n < MAX_REQUESTS)
	{
		const char *sep = memmem(s, (size_t) (end - s), SEPARATOR, strlen(SEPARATOR));
		const char *re = sep ? sep : end;

		one_request(s, (size_t) (re - s));
		n++;
		s = sep ? sep + strlen(SEPARATOR) : end;
	}
	reset_state();
	return 0;
}

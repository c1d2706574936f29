/*-------------------------------------------------------------------------
 *
 * comms_emulator.c
 *	  The Comms API emulator: command line, HTTP server, request life
 *	  cycle, authentication, request log and the /_emulator/ control API.
 *
 *	  comms_emulator --inventory FILE.json [--port N] [--page-size N]
 *		  [--credentials ID:SECRET]... [--tls-cert CERT.pem --tls-key KEY.pem]
 *		  [--log FILE] [--port-file FILE] [--result-order reversed|rotated|ranked]
 *
 * It binds 127.0.0.1 only, prints "listening on http(s)://127.0.0.1:PORT/v1"
 * once it listens, and runs until SIGTERM or SIGINT (exit 0).
 *
 * libmicrohttpd runs one thread per connection (so a delayed or dripped
 * answer never holds up another connection; keep-alive is libmicrohttpd's).
 * A request's state lives in its connection's client context from the URI
 * callback to the completion callback.  Shared state is behind em_lock (see
 * em.h); the --log file is written under it too.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include "em.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Shared state, under em_lock */
pthread_mutex_t em_lock = PTHREAD_MUTEX_INITIALIZER;
em_inventory *em_inv;
em_operation *em_ops;
int			em_n_ops;
int			em_cap_ops;
int			em_page_size = 50;
char		em_base_url[128];
em_result_order em_order = EM_ORDER_REVERSED;

typedef struct credential
{
	char	   *user;
	char	   *secret;
} credential;

/* Read-only after start-up */
static credential *creds;
static int	n_creds;
static FILE *log_file;

/* ---------------------------------------------------------------------
 * The request log
 * ---------------------------------------------------------------------
 */
typedef struct log_entry
{
	int64_t		seq;
	char	   *method;
	char	   *path;
	char	   *query;			/* raw, without '?'; NULL when none */
	char	   *user;			/* Basic user name; never the password */
	int			status;			/* 0: not answered (dropped or in flight) */
	int64_t		started;
	int64_t		ended;			/* -1: not yet */
	int			fault;			/* rule index, -1: none */
	int64_t		conn;			/* connection number: equal for requests on one connection */
} log_entry;

static log_entry *log_entries;
static int	n_log;
static int	cap_log;
static int64_t next_seq = 1;

static void
log_entry_free(log_entry *e)
{
	free(e->method);
	free(e->path);
	free(e->query);
	free(e->user);
}

static void
log_clear(void)
{
	for (int i = 0; i < n_log; i++)
		log_entry_free(&log_entries[i]);
	free(log_entries);
	log_entries = NULL;
	n_log = cap_log = 0;
}

/* The entry of seq, or NULL once the log was cleared; holds em_lock. */
static log_entry *
log_find(int64_t seq)
{
	int			lo = 0,
				hi = n_log;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (log_entries[mid].seq == seq)
			return &log_entries[mid];
		if (log_entries[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static json_object *
log_entry_json(const log_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "seq", json_object_new_int64(e->seq));
	json_object_object_add(o, "method", json_object_new_string(e->method));
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "query", e->query ? json_object_new_string(e->query) : NULL);
	json_object_object_add(o, "status", e->status ? json_object_new_int(e->status) : NULL);
	json_object_object_add(o, "user", e->user ? json_object_new_string(e->user) : NULL);
	json_object_object_add(o, "startedAt", json_object_new_int64(e->started));
	json_object_object_add(o, "endedAt", e->ended >= 0 ? json_object_new_int64(e->ended) : NULL);
	json_object_object_add(o, "fault", e->fault >= 0 ? json_object_new_int(e->fault) : NULL);
	json_object_object_add(o, "conn", json_object_new_int64(e->conn));
	return o;
}

/* ---------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------
 */
typedef struct req_state
{
	char	   *uri;			/* as received, with the query string */
	bool		started;
	bool		api;			/* a /v1 request: logged, faults apply */
	int64_t		seq;
	int64_t		t0;
	char	   *user;			/* Basic user name, or NULL */
	char	   *secret;			/* Basic password, or NULL */
	bool		auth_given;		/* an Authorization: Basic header parsed */
	em_fault	fault;
	char	   *body;
	size_t		len;
	size_t		cap;
	bool		too_large;
	int			status;			/* as queued; 0: none */
} req_state;

static void *
uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	req_state  *rs = calloc(1, sizeof(req_state));

	(void) cls;
	(void) conn;
	if (rs == NULL)
		abort();
	rs->uri = strdup(uri);
	rs->fault.index = -1;
	return rs;
}

/* Parse "Authorization: Basic base64(user:secret)" into rs. */
static void
read_auth(struct MHD_Connection *conn, req_state *rs)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char *raw;
	size_t		len;
	char	   *colon;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return;
	h += 6;
	while (*h == ' ')
		h++;
	raw = em_base64_decode(h, strlen(h), &len);
	if (raw == NULL)
		return;
	colon = memchr(raw, ':', len);
	if (colon && strlen((char *) raw) == len)
	{
		*colon = '\0';
		rs->user = strdup((char *) raw);
		rs->secret = strdup(colon + 1);
		rs->auth_given = true;
	}
	free(raw);
}

/* Check the credentials; 401 in r when they do not pass. */
static bool
auth_ok(const req_state *rs, em_resp *r)
{
	if (!rs->auth_given)
	{
		em_resp_error(r, 401, "authentication required: use HTTP Basic with an account id and auth token, or an API key and secret", NULL);
		r->www_auth = true;
		return false;
	}
	if (n_creds == 0)
		return true;
	for (int i = 0; i < n_creds; i++)
		if (strcmp(creds[i].user, rs->user) == 0 && strcmp(creds[i].secret, rs->secret) == 0)
			return true;
	em_resp_error(r, 401, "authentication failed: unknown credentials", NULL);
	r->www_auth = true;
	return false;
}

/* ---------------------------------------------------------------------
 * The control API, /_emulator/...
 * ---------------------------------------------------------------------
 */
static json_object *
config_json(void)
{
	static const char *const orders[] = {"reversed", "rotated", "ranked"};
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pageSize", json_object_new_int(em_page_size));
	json_object_object_add(o, "resultOrder", json_object_new_string(orders[em_order]));
	return o;
}

static bool
parse_order(const char *s, em_result_order *out)
{
	if (strcmp(s, "reversed") == 0)
		*out = EM_ORDER_REVERSED;
	else if (strcmp(s, "rotated") == 0)
		*out = EM_ORDER_ROTATED;
	else if (strcmp(s, "ranked") == 0)
		*out = EM_ORDER_RANKED;
	else
		return false;
	return true;
}

static void
control_config(json_object *root, em_resp *r)
{
	json_object *v;
	int			page_size = em_page_size;
	em_result_order order = em_order;

	if (!json_object_is_type(root, json_type_object))
	{
		em_resp_error(r, 400, "config must be an object {\"pageSize\"?, \"resultOrder\"?}", "$");
		return;
	}
	json_object_object_foreach(root, key, val)
	{
		(void) val;
		if (strcmp(key, "pageSize") != 0 && strcmp(key, "resultOrder") != 0)
		{
			em_resp_errorf(r, 400, NULL, "unknown config key \"%.40s\"", key);
			return;
		}
	}
	if (json_object_object_get_ex(root, "pageSize", &v))
	{
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
			json_object_get_int64(v) > EM_MAX_PAGE_SIZE)
		{
			em_resp_errorf(r, 400, "$.pageSize", "pageSize must be an integer from 1 to %d", EM_MAX_PAGE_SIZE);
			return;
		}
		page_size = (int) json_object_get_int64(v);
	}
	if (json_object_object_get_ex(root, "resultOrder", &v) &&
		(!json_object_is_type(v, json_type_string) || !parse_order(json_object_get_string(v), &order)))
	{
		em_resp_error(r, 400, "resultOrder must be \"reversed\", \"rotated\" or \"ranked\"", "$.resultOrder");
		return;
	}
	em_page_size = page_size;
	em_order = order;
	em_resp_json(r, 200, config_json());
}

/* Is method one of the comma-separated names in allow? */
static bool
method_allowed(const char *allow, const char *method)
{
	size_t		len = strlen(method);

	for (const char *p = allow; (p = strstr(p, method)) != NULL; p += len)
		if ((p == allow || p[-1] == ' ') && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}

static void
control(const char *method, const char *path, const char *body, size_t len,
		bool too_large, em_resp *r)
{
	const char *what = path + strlen("/_emulator/");
	bool		get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool		has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
	json_object *root = NULL;
	const char *allow;

	if (strcmp(what, "faults") == 0)
		allow = "GET, POST, DELETE";
	else if (strcmp(what, "log") == 0)
		allow = "GET, DELETE";
	else if (strcmp(what, "inventory") == 0 || strcmp(what, "config") == 0)
		allow = "GET, PUT";
	else
	{
		em_resp_errorf(r, 404, NULL, "no such control endpoint: %.200s", path);
		return;
	}
	if (!get && !method_allowed(allow, method))
	{
		em_resp_errorf(r, 405, NULL, "method %s is not allowed on %.200s", method, path);
		r->allow = allow;
		return;
	}
	if (too_large)
	{
		em_resp_error(r, 413, "request body is too large", NULL);
		return;
	}
	if (has_body)
	{
		root = em_parse_body(body, len, r);
		if (r->body)
			return;
	}

	pthread_mutex_lock(&em_lock);
	if (strcmp(what, "faults") == 0)
	{
		if (get)
			em_resp_json(r, 200, em_faults_to_json());
		else if (strcmp(method, "DELETE") == 0)
		{
			em_faults_clear();
			em_resp_json(r, 200, json_object_new_array());
		}
		else
		{
			int			first,
						count;

			if (em_faults_add(root, r, &first, &count))
			{
				json_object *o = json_object_new_object();

				json_object_object_add(o, "added", json_object_new_int(count));
				json_object_object_add(o, "first", json_object_new_int(first));
				em_resp_json(r, 200, o);
			}
		}
	}
	else if (strcmp(what, "log") == 0)
	{
		if (get)
		{
			json_object *arr = json_object_new_array_ext(n_log);

			for (int i = 0; i < n_log; i++)
				json_object_array_add(arr, log_entry_json(&log_entries[i]));
			em_resp_json(r, 200, arr);
		}
		else
		{
			log_clear();
			em_resp_json(r, 200, json_object_new_array());
		}
	}
	else if (strcmp(what, "inventory") == 0)
	{
		if (get)
			em_resp_json(r, 200, em_inventory_to_json(em_inv));
		else
		{
			char		err[512];
			em_inventory *inv = em_inventory_from_json(root, err, sizeof(err));

			if (inv == NULL)
				em_resp_error(r, 400, err, NULL);
			else
			{
				json_object *o = json_object_new_object();

				em_inventory_free(em_inv);
				em_inv = inv;
				json_object_object_add(o, "senders", json_object_new_int(inv->n_senders));
				json_object_object_add(o, "senderPools", json_object_new_int(inv->n_pools));
				em_resp_json(r, 200, o);
			}
		}
	}
	else
	{
		if (get)
			em_resp_json(r, 200, config_json());
		else
			control_config(root, r);
	}
	pthread_mutex_unlock(&em_lock);
	json_object_put(root);
}

/* ---------------------------------------------------------------------
 * The request handler
 * ---------------------------------------------------------------------
 */
/*
 * Connections are numbered as they open, so the log can show which
 * requests shared a (keep-alive) connection.
 */
static int64_t next_conn = 1;

static void
notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
				  enum MHD_ConnectionNotificationCode toe)
{
	(void) cls;
	(void) conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
	{
		int64_t    *n = malloc(sizeof(int64_t));

		if (n)
		{
			pthread_mutex_lock(&em_lock);
			*n = next_conn++;
			pthread_mutex_unlock(&em_lock);
		}
		*socket_context = n;
	}
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
	{
		free(*socket_context);
		*socket_context = NULL;
	}
}

static int64_t
connection_number(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return (ci && ci->socket_context) ? *(int64_t *) ci->socket_context : 0;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	req_state  *rs = *con_cls;
	em_resp		r = {0};
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int			status;

	(void) cls;
	(void) version;
	if (rs == NULL)				/* no URI callback ran: cannot happen */
		*con_cls = rs = uri_logger(NULL, url, conn);

	if (!rs->started)
	{
		/* headers are in: log the request and let a fault rule take it */
		rs->started = true;
		rs->t0 = em_now_ms();
		rs->api = strcmp(url, "/v1") == 0 || strncmp(url, "/v1/", 4) == 0;
		read_auth(conn, rs);
		if (rs->api)
		{
			log_entry  *e;
			const char *q = strchr(rs->uri, '?');

			pthread_mutex_lock(&em_lock);
			em_faults_take(method, url, &rs->fault);
			if (n_log == cap_log)
			{
				cap_log = cap_log ? cap_log * 2 : 64;
				log_entries = realloc(log_entries, sizeof(log_entry) * cap_log);
				if (log_entries == NULL)
					abort();
			}
			e = &log_entries[n_log++];
			memset(e, 0, sizeof(*e));
			rs->seq = e->seq = next_seq++;
			e->method = strdup(method);
			e->path = strdup(url);
			e->query = q ? strdup(q + 1) : NULL;
			e->user = rs->user ? strdup(rs->user) : NULL;
			e->started = rs->t0;
			e->ended = -1;
			e->fault = rs->fault.index;
			e->conn = connection_number(conn);
			pthread_mutex_unlock(&em_lock);
		}
		return MHD_YES;
	}

	if (*upload_data_size > 0)
	{
		size_t		n = *upload_data_size;

		if (!rs->too_large && rs->len + n > EM_MAX_BODY)
		{
			rs->too_large = true;
			free(rs->body);
			rs->body = NULL;
			rs->len = rs->cap = 0;
		}
		if (!rs->too_large)
		{
			if (rs->len + n + 1 > rs->cap)
			{
				rs->cap = (rs->len + n + 1) * 2;
				rs->body = realloc(rs->body, rs->cap);
				if (rs->body == NULL)
					abort();
			}
			memcpy(rs->body + rs->len, upload_data, n);
			rs->len += n;
			rs->body[rs->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	/* the whole request is in: answer it */
	if (rs->api)
	{
		if (rs->fault.index >= 0 && rs->fault.delay_ms > 0 && !em_sleep_ms(rs->fault.delay_ms))
			return MHD_NO;		/* shutting down */
		if (rs->fault.index >= 0 && rs->fault.drop)
			return MHD_NO;		/* close the connection, no response */
		if (!em_fault_synthesizes(&rs->fault))
		{
			if (rs->too_large)
				em_resp_error(&r, 413, "request body is too large", NULL);
			else if (auth_ok(rs, &r))
				em_api_handle(conn, method, url, rs->body ? rs->body : "", rs->len, &r);
		}
	}
	else if (strncmp(url, "/_emulator/", 11) == 0)
		control(method, url, rs->body ? rs->body : "", rs->len, rs->too_large, &r);
	else
		em_resp_errorf(&r, 404, NULL, "no such resource: %.200s (the API is under /v1)", url);

	resp = em_fault_response(&rs->fault, &r, rs->uri, &status);
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	rs->status = status;
	if (rs->api)
	{
		log_entry  *e;

		pthread_mutex_lock(&em_lock);
		if ((e = log_find(rs->seq)) != NULL)
		{
			e->status = status;
			e->ended = em_now_ms();		/* refined on completion */
		}
		pthread_mutex_unlock(&em_lock);
	}
	return ret;
}

static const char *
termination_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe)
	{
		case MHD_REQUEST_TERMINATED_COMPLETED_OK:
			return "completed";
		case MHD_REQUEST_TERMINATED_WITH_ERROR:
			return "closed";	/* dropped, truncated, or a write failed */
		case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
			return "timeout";
		case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
			return "shutdown";
		case MHD_REQUEST_TERMINATED_READ_ERROR:
			return "read-error";
		case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
			return "client-abort";
	}
	return "unknown";
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	req_state  *rs = *con_cls;

	(void) cls;
	(void) conn;
	if (rs == NULL)
		return;
	if (rs->started)
	{
		int64_t		now = em_now_ms();
		log_entry  *e = NULL;

		pthread_mutex_lock(&em_lock);
		if (rs->api && (e = log_find(rs->seq)) != NULL)
			e->ended = now;
		if (log_file)
		{
			json_object *o;

			if (e)
				o = log_entry_json(e);
			else
			{
				o = json_object_new_object();
				json_object_object_add(o, "uri", json_object_new_string(rs->uri));
				json_object_object_add(o, "status", rs->status ? json_object_new_int(rs->status) : NULL);
				json_object_object_add(o, "endedAt", json_object_new_int64(now));
			}
			if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
				json_object_object_add(o, "terminated", json_object_new_string(termination_name(toe)));
			fprintf(log_file, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			fflush(log_file);
			json_object_put(o);
		}
		pthread_mutex_unlock(&em_lock);
	}
	em_fault_free(&rs->fault);
	free(rs->uri);
	free(rs->user);
	free(rs->secret);
	free(rs->body);
	free(rs);
	*con_cls = NULL;
}

/* ---------------------------------------------------------------------
 * Start-up
 * ---------------------------------------------------------------------
 */
static void
usage(FILE *f)
{
	fprintf(f,
			"Usage: comms_emulator --inventory FILE.json [options]\n"
			"  --inventory FILE       senders and pools to serve (JSON, see README.md)\n"
			"  --port N               port on 127.0.0.1 (default 0: any free port)\n"
			"  --page-size N          default page size of listings, 1..1000 (default 50)\n"
			"  --credentials ID:SECRET  accepted Basic credentials (repeatable; none: any)\n"
			"  --tls-cert CERT.pem    serve HTTPS with this certificate (needs --tls-key)\n"
			"  --tls-key KEY.pem      the certificate's private key\n"
			"  --log FILE             append one JSON line per request\n"
			"  --port-file FILE       write the port number here once listening\n"
			"  --result-order ORDER   Resolve results: reversed (default), rotated or ranked\n");
}

/* libmicrohttpd's own messages (TLS handshakes, closed connections) */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		msg[512];
	size_t		len;

	(void) cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	fprintf(stderr, "comms_emulator: %s\n", msg);
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		len = 0,
				cap = 0,
				n;

	if (f == NULL)
		return NULL;
	do
	{
		if (cap - len < 4096)
		{
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static bool
parse_int(const char *s, long lo, long hi, long *out)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"inventory", required_argument, NULL, 'i'},
		{"port", required_argument, NULL, 'p'},
		{"page-size", required_argument, NULL, 's'},
		{"credentials", required_argument, NULL, 'c'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"log", required_argument, NULL, 'l'},
		{"port-file", required_argument, NULL, 'f'},
		{"result-order", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *inventory = NULL,
			   *tls_cert = NULL,
			   *tls_key = NULL,
			   *log_path = NULL,
			   *port_file = NULL;
	char	   *cert_pem = NULL,
			   *key_pem = NULL;
	long		port = 0,
				v;
	int			c;
	char		err[512];
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	unsigned int flags;
	sigset_t	sigs;
	int			sig;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'i':
				inventory = optarg;
				break;
			case 'p':
				if (!parse_int(optarg, 0, 65535, &port))
				{
					fprintf(stderr, "comms_emulator: invalid --port \"%s\"\n", optarg);
					return 2;
				}
				break;
			case 's':
				if (!parse_int(optarg, 1, EM_MAX_PAGE_SIZE, &v))
				{
					fprintf(stderr, "comms_emulator: --page-size must be from 1 to %d\n", EM_MAX_PAGE_SIZE);
					return 2;
				}
				em_page_size = (int) v;
				break;
			case 'c':
				{
					char	   *colon = strchr(optarg, ':');

					if (colon == NULL || colon == optarg)
					{
						fprintf(stderr, "comms_emulator: --credentials must be ID:SECRET\n");
						return 2;
					}
					creds = realloc(creds, sizeof(credential) * (n_creds + 1));
					if (creds == NULL)
						abort();
					creds[n_creds].user = strndup(optarg, colon - optarg);
					creds[n_creds].secret = strdup(colon + 1);
					n_creds++;
					break;
				}
			case 'C':
				tls_cert = optarg;
				break;
			case 'K':
				tls_key = optarg;
				break;
			case 'l':
				log_path = optarg;
				break;
			case 'f':
				port_file = optarg;
				break;
			case 'o':
				if (!parse_order(optarg, &em_order))
				{
					fprintf(stderr, "comms_emulator: --result-order must be reversed, rotated or ranked\n");
					return 2;
				}
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
	}
	if (optind < argc || inventory == NULL)
	{
		usage(stderr);
		return 2;
	}
	if ((tls_cert == NULL) != (tls_key == NULL))
	{
		fprintf(stderr, "comms_emulator: --tls-cert and --tls-key go together\n");
		return 2;
	}
	em_inv = em_inventory_load_file(inventory, err, sizeof(err));
	if (em_inv == NULL)
	{
		fprintf(stderr, "comms_emulator: %s\n", err);
		return 1;
	}
	if (tls_cert)
	{
		cert_pem = read_file(tls_cert);
		key_pem = read_file(tls_key);
		if (cert_pem == NULL || key_pem == NULL)
		{
			fprintf(stderr, "comms_emulator: cannot read %s: %s\n",
					cert_pem == NULL ? tls_cert : tls_key, strerror(errno));
			return 1;
		}
	}
	if (log_path && (log_file = fopen(log_path, "a")) == NULL)
	{
		fprintf(stderr, "comms_emulator: cannot open %s: %s\n", log_path, strerror(errno));
		return 1;
	}

	/* signals: SIGTERM and SIGINT are taken by sigwait in this thread only */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (tls_cert)
		flags |= MHD_USE_TLS;
	d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
						 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
						 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
						 MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL,
						 MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
						 MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
						 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 600,
						 tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert_pem,
						 MHD_OPTION_HTTPS_MEM_KEY, key_pem,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "comms_emulator: cannot listen on 127.0.0.1:%ld\n", port);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : port;
	snprintf(em_base_url, sizeof(em_base_url), "%s://127.0.0.1:%ld/v1",
			 tls_cert ? "https" : "http", port);
	if (port_file)
	{
		char		tmp[4096];
		FILE	   *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp.%d", port_file, (int) getpid());
		if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%ld\n", port) < 0 ||
			fclose(f) != 0 || rename(tmp, port_file) != 0)
		{
			fprintf(stderr, "comms_emulator: cannot write %s: %s\n", port_file, strerror(errno));
			MHD_stop_daemon(d);
			return 1;
		}
	}
	printf("listening on %s\n", em_base_url);
	fflush(stdout);

	do
	{
		if (sigwait(&sigs, &sig) != 0)
			sig = SIGTERM;
	} while (sig != SIGTERM && sig != SIGINT);

	em_stopping = 1;
	MHD_stop_daemon(d);

	pthread_mutex_lock(&em_lock);
	em_inventory_free(em_inv);
	for (int i = 0; i < em_n_ops; i++)
	{
		free(em_ops[i].id);
		free(em_ops[i].pool_id);
		free(em_ops[i].created_at);
	}
	free(em_ops);
	em_faults_clear();
	log_clear();
	pthread_mutex_unlock(&em_lock);
	for (int i = 0; i < n_creds; i++)
	{
		free(creds[i].user);
		free(creds[i].secret);
	}
	free(creds);
	free(cert_pem);
	free(key_pem);
	if (log_file)
		fclose(log_file);
	return 0;
}

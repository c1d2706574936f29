/*-------------------------------------------------------------------------
 *
 * http.c
 *	  The HTTP client of the remote resolver: libcurl driven from the
 *	  backend's own wait loop, so cancel and statement_timeout act at once.
 *
 * One curl multi handle and a few easy handles live for the whole backend,
 * so connections to the API are kept alive and reused across calls; the
 * multi handle keeps at most as many connections as requests ever ran at
 * once (one for resolve, comms_resolve.max_concurrency for resolve_many).
 * Transfers run in run_batch's loop: curl tells us (socket and timer
 * callbacks) which sockets to watch and when to wake it; we wait on those
 * sockets and on MyLatch in one WaitEventSet and call CHECK_FOR_INTERRUPTS()
 * on every wake-up; waits before retries happen in the same loop, so they
 * are interruptible too.  A cancel or statement_timeout therefore raises the
 * real 57014 from our loop, never from inside libcurl; PG_FINALLY detaches
 * every easy handle still running (curl then closes those half-used
 * connections) and frees the response buffers on every path.
 *
 * A batch is n requests with at most `concurrency` in flight and request
 * starts paced at most `per_second` a second; each request is retried on
 * its own.  A single request is a batch of one.
 *
 * Callbacks never ereport, palloc or longjmp: the write callback appends
 * to a malloc'd buffer and refuses data beyond the size cap, the header
 * callback notes Retry-After.  Errors are raised after curl returns.
 *
 * Retries: for 429 and 503 (after Retry-After seconds, capped by the retry
 * ceiling, else exponential backoff) and for connection failures, at most
 * cfg->retries times, sleeping on the latch so they stay interruptible;
 * never for other statuses or timeouts.  Redirects are never followed.
 * The credentials go only into CURLOPT_USERNAME/PASSWORD: no message or
 * log line built here contains them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "comms_resolve.h"

#define MAX_SLOTS 64			/* most requests in flight at once */
#define MAX_WATCHES (2 * MAX_SLOTS + 8)

typedef struct Watch
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN / OUT / INOUT */
} Watch;

/* Per-backend handles, made on first use. */
static CURLM *multi = NULL;
static CURL *easies[MAX_SLOTS];
static long multi_connections = 0;	/* CURLMOPT_MAXCONNECTS in force */

/* Filled by curl's callbacks during a transfer. */
static Watch watches[MAX_WATCHES];
static int	nwatches = 0;
static bool watch_overflow = false;
static long curl_timeout_ms = -1;

/* The response being received; malloc'd, never palloc'd (see above). */
typedef struct Sink
{
	char	   *data;
	size_t		len;
	size_t		cap;
	size_t		limit;
	bool		oversize;
	bool		nomem;
	long		retry_after;	/* seconds, -1 when absent */
} Sink;

static int
socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nwatches; i++)
		if (watches[i].fd == s)
			break;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nwatches)
			watches[i] = watches[--nwatches];
		return 0;
	}
	if (i == nwatches)
	{
		if (nwatches == MAX_WATCHES)
		{
			watch_overflow = true;
			return -1;
		}
		nwatches++;
	}
	watches[i].fd = s;
	watches[i].what = what;
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	curl_timeout_ms = timeout_ms;
	return 0;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Sink	   *sink = (Sink *) userdata;
	size_t		n = size * nmemb;

	if (sink->len + n > sink->limit)
	{
		sink->oversize = true;
		return 0;				/* curl aborts with CURLE_WRITE_ERROR */
	}
	if (sink->len + n + 1 > sink->cap)
	{
		size_t		cap = Max(sink->cap * 2, sink->len + n + 1);
		char	   *p;

		cap = Max(cap, 8192);
		p = realloc(sink->data, cap);
		if (p == NULL)
		{
			sink->nomem = true;
			return 0;
		}
		sink->data = p;
		sink->cap = cap;
	}
	memcpy(sink->data + sink->len, ptr, n);
	sink->len += n;
	sink->data[sink->len] = '\0';
	return n;
}

static size_t
header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	Sink	   *sink = (Sink *) userdata;
	size_t		n = size * nitems;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) - 1 && pg_strncasecmp(buffer, name, sizeof(name) - 1) == 0)
	{
		size_t		i = sizeof(name) - 1;
		long		v = 0;
		bool		digits = false;

		while (i < n && (buffer[i] == ' ' || buffer[i] == '\t'))
			i++;
		while (i < n && buffer[i] >= '0' && buffer[i] <= '9' && v < 1000000)
		{
			v = v * 10 + (buffer[i++] - '0');
			digits = true;
		}
		/* delta-seconds only; an HTTP-date counts as absent */
		sink->retry_after = digits ? v : -1;
	}
	return n;
}

static void
ensure_handles(int nslots)
{
	if (multi == NULL)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("could not initialize libcurl")));
		multi = curl_multi_init();
		if (multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	}
	for (int i = 0; i < nslots; i++)
		if (easies[i] == NULL && (easies[i] = curl_easy_init()) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not create a libcurl handle")));
	if (nslots > multi_connections)
	{
		/* bounded: never more cached connections than parallel requests */
		curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) nslots);
		curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) nslots);
		multi_connections = nslots;
	}
}

/*
 * Wait for curl's sockets or timer, or our latch, once; drive curl.  All
 * CHECK_FOR_INTERRUPTS happen after the WaitEventSet is freed, so an
 * interrupt never leaks its epoll descriptor.
 */
static void
wait_and_drive(long max_wait_ms)
{
	WaitEventSet *set;
	WaitEvent	occurred[MAX_WATCHES + 2];
	int			n,
				running;
	long		timeout = (curl_timeout_ms < 0) ? max_wait_ms : Min(curl_timeout_ms, max_wait_ms);
	bool		latch = false;
	int			fds[MAX_WATCHES + 2];
	int			flags[MAX_WATCHES + 2];
	int			nready = 0;

	set = CreateWaitEventSet(CurrentMemoryContext, nwatches + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nwatches; i++)
	{
		uint32		ev = 0;

		if (watches[i].what & CURL_POLL_IN)
			ev |= WL_SOCKET_READABLE;
		if (watches[i].what & CURL_POLL_OUT)
			ev |= WL_SOCKET_WRITEABLE;
		if (ev)
			AddWaitEventToSet(set, ev, watches[i].fd, NULL, NULL);
	}
	n = WaitEventSetWait(set, timeout, occurred, lengthof(occurred), PG_WAIT_EXTENSION);
	for (int i = 0; i < n; i++)
	{
		if (occurred[i].events & WL_LATCH_SET)
			latch = true;
		else if (occurred[i].events & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
		{
			fds[nready] = occurred[i].fd;
			flags[nready] = ((occurred[i].events & WL_SOCKET_READABLE) ? CURL_CSELECT_IN : 0) |
				((occurred[i].events & WL_SOCKET_WRITEABLE) ? CURL_CSELECT_OUT : 0);
			nready++;
		}
	}
	FreeWaitEventSet(set);

	if (latch)
		ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	for (int i = 0; i < nready; i++)
		curl_multi_socket_action(multi, fds[i], flags[i], &running);
	if (nready == 0)
		curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* Is this curl failure one we may retry (the request had no effect)? */
static bool
retriable_failure(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
		rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR ||
		rc == CURLE_RECV_ERROR;
}

/* Raise the error of a transfer that failed below HTTP. */
static void raise_transport_error(const CrHttpConfig *cfg, CURLcode rc,
								  const Sink *sink, const char *errbuf,
								  int attempts) pg_attribute_noreturn();

static void
raise_transport_error(const CrHttpConfig *cfg, CURLcode rc, const Sink *sink,
					  const char *errbuf, int attempts)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (sink->oversize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("response from the Comms API exceeds %zu bytes", cfg->max_response_bytes),
				 errhint("Raise the server option max_response_bytes of server \"%s\" if this is expected.",
						 cfg->server_name)));
	if (sink->nomem)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory receiving a response from the Comms API")));
	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_EXCEPTION),
					 errmsg("request to the Comms API timed out"),
					 errdetail_internal("%s", detail),
					 errhint("The limits are the options connect_timeout_ms and request_timeout_ms of server \"%s\", or the settings comms_resolve.connect_timeout and comms_resolve.request_timeout.",
							 cfg->server_name)));
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to the Comms API (server \"%s\")", cfg->server_name),
					 errdetail_internal("%s (after %d attempt%s)", detail, attempts, attempts == 1 ? "" : "s")));
			break;
		case CURLE_PARTIAL_FILE:
		case CURLE_BAD_CONTENT_ENCODING:
		case CURLE_UNSUPPORTED_PROTOCOL:	/* an HTTP/0.9 or non-HTTP answer */
		case CURLE_WEIRD_SERVER_REPLY:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("malformed response from the Comms API"),
					 errdetail_internal("%s", detail)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("connection to the Comms API failed (server \"%s\")", cfg->server_name),
					 errdetail_internal("%s (after %d attempt%s)", detail, attempts, attempts == 1 ? "" : "s")));
			break;
	}
}

/* Set the easy handle's options for one request. */
static void
setup_easy(CURL *easy, const CrHttpConfig *cfg, const char *method,
		   const char *url, const char *body, struct curl_slist *headers,
		   Sink *sink, char *errbuf)
{
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!cr_guc_reuse_connections)
	{
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "comms_resolve/" COMMS_RESOLVE_VERSION);
	curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->user);
	curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->password);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, cfg->request_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
	if (cfg->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->ca_file);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, sink);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	else
	{
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) (body ? strlen(body) : 0));
	}
}

/* One request slot of a batch. */
typedef enum SlotState
{
	SLOT_IDLE = 0,
	SLOT_READY,					/* has a request to (re)start at ready_at */
	SLOT_RUNNING
} SlotState;

typedef struct Slot
{
	CURL	   *easy;
	SlotState	state;
	int			index;			/* request index, -1 when idle */
	int			attempt;
	long		backoff_ms;
	TimestampTz ready_at;
	Sink		sink;
	char		errbuf[CURL_ERROR_SIZE];
} Slot;

static Slot *
slot_of(Slot *slots, int nslots, CURL *e)
{
	for (int i = 0; i < nslots; i++)
		if (slots[i].easy == e)
			return &slots[i];
	return NULL;
}

/*
 * Send n requests (method, cfg->base_url || path, bodies[i]) with at most
 * `concurrency` in flight and starts at most `per_second` a second (0: no
 * limit), each retried on its own as the header comment says.  results[i]
 * gets the final status and body (palloc'd, NUL-terminated).  Transport
 * failures, and 429/503 still answered after the last retry, raise an
 * error after setting *failed to the request's index; so does a non-2xx
 * status when stop_on_status is set, except that it returns with *failed
 * set and results[*failed] filled, for the caller to interpret.
 */
void
cr_http_request_many(const CrHttpConfig *cfg, const char *method,
					 const char *path, char *const *bodies, int n,
					 int concurrency, int per_second, bool stop_on_status,
					 CrHttpResult *results, int *failed)
{
	char	   *url = psprintf("%s%s", cfg->base_url, path);
	struct curl_slist *volatile headers = NULL;
	int			nslots = Max(1, Min(Min(concurrency, MAX_SLOTS), n));
	Slot	   *slots = palloc0(sizeof(Slot) * nslots);
	long		interval_us = per_second > 0 ? 1000000L / per_second : 0;

	*failed = -1;
	ensure_handles(nslots);
	for (int i = 0; i < nslots; i++)
	{
		slots[i].easy = easies[i];
		slots[i].index = -1;
	}

	PG_TRY();
	{
		int			next = 0,
					done = 0;
		TimestampTz last_start = 0;

		headers = curl_slist_append(headers, "Accept: application/json");
		if (strcmp(method, "GET") != 0)
			headers = curl_slist_append(headers, "Content-Type: application/json");
		headers = curl_slist_append(headers, "Expect:");
		if (headers == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		nwatches = 0;
		watch_overflow = false;
		curl_timeout_ms = -1;

		while (done < n)
		{
			TimestampTz now = GetCurrentTimestamp();
			long		wait_ms = 1000;
			CURLMsg    *msg;
			int			queued,
						running;
			bool		started = false;

			/* collect finished transfers */
			while ((msg = curl_multi_info_read(multi, &queued)) != NULL)
			{
				Slot	   *sl;
				CURLcode	rc;
				long		status = 0;

				if (msg->msg != CURLMSG_DONE ||
					(sl = slot_of(slots, nslots, msg->easy_handle)) == NULL)
					continue;
				rc = msg->data.result;
				curl_multi_remove_handle(multi, sl->easy);
				sl->state = SLOT_READY;
				now = GetCurrentTimestamp();
				if (rc != CURLE_OK)
				{
					if (sl->attempt <= cfg->retries && retriable_failure(rc) && !sl->sink.oversize)
					{
						sl->ready_at = TimestampTzPlusMilliseconds(now, Min(sl->backoff_ms, cfg->retry_ceiling_ms));
						sl->backoff_ms *= 2;
						continue;
					}
					*failed = sl->index;
					raise_transport_error(cfg, rc, &sl->sink, sl->errbuf, sl->attempt);
				}
				curl_easy_getinfo(sl->easy, CURLINFO_RESPONSE_CODE, &status);
				if ((status == 429 || status == 503) && sl->attempt <= cfg->retries)
				{
					long		ms = (sl->sink.retry_after >= 0) ? sl->sink.retry_after * 1000L : sl->backoff_ms;

					sl->ready_at = TimestampTzPlusMilliseconds(now, Min(ms, cfg->retry_ceiling_ms));
					sl->backoff_ms *= 2;
					continue;
				}
				results[sl->index].status = status;
				results[sl->index].attempts = sl->attempt;
				results[sl->index].body_len = sl->sink.len;
				results[sl->index].body = palloc(sl->sink.len + 1);
				if (sl->sink.len)
					memcpy(results[sl->index].body, sl->sink.data, sl->sink.len);
				results[sl->index].body[sl->sink.len] = '\0';
				done++;
				sl->state = SLOT_IDLE;
				if (stop_on_status && (status < 200 || status > 299))
				{
					*failed = sl->index;
					break;
				}
				sl->index = -1;
			}
			if (*failed >= 0 || done == n)
				break;

			/* give idle slots new requests, start what is due */
			for (int i = 0; i < nslots; i++)
			{
				Slot	   *sl = &slots[i];

				if (sl->state == SLOT_IDLE && next < n)
				{
					sl->state = SLOT_READY;
					sl->index = next++;
					sl->attempt = 0;
					sl->backoff_ms = 200;
					sl->ready_at = now;
				}
				if (sl->state != SLOT_READY)
					continue;
				if (interval_us && last_start && sl->ready_at < last_start + interval_us)
					sl->ready_at = last_start + interval_us;	/* the budget */
				if (sl->ready_at > now)
				{
					wait_ms = Min(wait_ms, Max(1, (sl->ready_at - now) / 1000));
					continue;
				}
				sl->attempt++;
				sl->sink.len = 0;
				sl->sink.limit = cfg->max_response_bytes;
				sl->sink.oversize = sl->sink.nomem = false;
				sl->sink.retry_after = -1;
				sl->errbuf[0] = '\0';
				setup_easy(sl->easy, cfg, method, url, bodies[sl->index], headers, &sl->sink, sl->errbuf);
				elog(DEBUG1, "comms_resolve: %s %s (request %d, attempt %d)",
					 method, path, sl->index, sl->attempt);
				if (curl_multi_add_handle(multi, sl->easy) != CURLM_OK)
					ereport(ERROR,
							(errcode(ERRCODE_SYSTEM_ERROR),
							 errmsg("could not start a request to the Comms API")));
				sl->state = SLOT_RUNNING;
				last_start = now;
				started = true;
			}
			if (started)
				curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);

			if (watch_overflow)
				ereport(ERROR,
						(errcode(ERRCODE_SYSTEM_ERROR),
						 errmsg("too many sockets for the Comms API client")));
			wait_and_drive(wait_ms);
		}
	}
	PG_FINALLY();
	{
		curl_slist_free_all(headers);
		for (int i = 0; i < nslots; i++)
		{
			Slot	   *sl = &slots[i];

			if (sl->state == SLOT_RUNNING)
				curl_multi_remove_handle(multi, sl->easy);
			/* the easy handle must not keep pointers to freed memory */
			curl_easy_setopt(sl->easy, CURLOPT_ERRORBUFFER, NULL);
			curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, NULL);
			curl_easy_setopt(sl->easy, CURLOPT_WRITEDATA, NULL);
			curl_easy_setopt(sl->easy, CURLOPT_HEADERDATA, NULL);
			curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, NULL);
			free(sl->sink.data);
		}
		pfree(slots);
		pfree(url);
	}
	PG_END_TRY();
}

/*
 * Send one request to cfg->base_url || path, with retries, and return the
 * final HTTP status and body (palloc'd, NUL-terminated).  Raises an error
 * for transport failures, and for 429/503 still answered after the last
 * retry; any other status is returned for the caller to interpret.
 */
void
cr_http_request(const CrHttpConfig *cfg, const char *method, const char *path,
				const char *body, CrHttpResult *out)
{
	char	   *bodies[1] = {(char *) body};
	int			failed;

	memset(out, 0, sizeof(*out));
	cr_http_request_many(cfg, method, path, bodies, 1, 1, 0, false, out, &failed);
}

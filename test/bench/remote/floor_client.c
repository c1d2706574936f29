/*-------------------------------------------------------------------------
 *
 * floor_client.c
 *	  The floor of the remote-resolver latency benchmark (latency.sh): a
 *	  minimal libcurl client that sends one Resolve request body N times,
 *	  sequentially, over one keep-alive connection (one easy handle, set up
 *	  once and reused), and reports the total and mean latency per call.
 *
 *	  floor_client --url URL --user ID --password SECRET --body-file FILE
 *		  [--calls N] [--warmup W]
 *
 * Every request is POST URL with HTTP Basic auth, "Content-Type:
 * application/json" and the file's bytes as the body.  Every response
 * must be 200: the first other status (or transport error) stops the run
 * with exit status 1.  The W warm-up calls (default 1: the one that opens
 * the connection) are not timed; the N timed calls are, with
 * CLOCK_MONOTONIC around the whole loop.
 *
 * Output, one line, key=value:
 *	  calls=N seconds=S ms_per_call=M connects=C response_bytes=B
 * where connects counts new connections during the timed calls (0 when the
 * keep-alive connection was reused throughout) and response_bytes is the
 * size of the last response body.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t response_bytes;

/* Count and discard the response body. */
static size_t
discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void) ptr;
	(void) userdata;
	response_bytes += size * nmemb;
	return size * nmemb;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		(buf = malloc((size_t) n + 1)) == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static long
parse_count(const char *s, const char *what)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 0)
	{
		fprintf(stderr, "floor_client: invalid %s \"%s\"\n", what, s);
		exit(2);
	}
	return v;
}

/* One request; 0 when it was answered 200, else prints why and returns 1. */
static int
one_call(CURL *h, long i, long *connects)
{
	char		errbuf[CURL_ERROR_SIZE] = "";
	CURLcode	rc;
	long		status = 0,
				nc = 0;

	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	response_bytes = 0;
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
	{
		fprintf(stderr, "floor_client: call %ld: %s\n", i,
				errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return 1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
	{
		fprintf(stderr, "floor_client: call %ld: HTTP status %ld, expected 200\n", i, status);
		return 1;
	}
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
	*connects += nc;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"user", required_argument, NULL, 'U'},
		{"password", required_argument, NULL, 'P'},
		{"body-file", required_argument, NULL, 'b'},
		{"calls", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0}
	};
	const char *url = NULL,
			   *user = NULL,
			   *password = NULL,
			   *body_file = NULL;
	long		calls = 2000,
				warmup = 1,
				connects = 0;
	char	   *body;
	size_t		body_len = 0;
	struct curl_slist *headers = NULL;
	struct timespec t0,
				t1;
	double		secs;
	CURL	   *h;
	int			c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'u':
				url = optarg;
				break;
			case 'U':
				user = optarg;
				break;
			case 'P':
				password = optarg;
				break;
			case 'b':
				body_file = optarg;
				break;
			case 'n':
				calls = parse_count(optarg, "--calls");
				break;
			case 'w':
				warmup = parse_count(optarg, "--warmup");
				break;
			default:
				fprintf(stderr, "usage: floor_client --url URL --user ID --password SECRET --body-file FILE [--calls N] [--warmup W]\n");
				return 2;
		}
	}
	if (url == NULL || user == NULL || password == NULL || body_file == NULL || calls < 1)
	{
		fprintf(stderr, "usage: floor_client --url URL --user ID --password SECRET --body-file FILE [--calls N] [--warmup W]\n");
		return 2;
	}
	if ((body = read_file(body_file, &body_len)) == NULL)
	{
		fprintf(stderr, "floor_client: cannot read %s: %s\n", body_file, strerror(errno));
		return 2;
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (h = curl_easy_init()) == NULL)
	{
		fprintf(stderr, "floor_client: cannot initialise libcurl\n");
		return 1;
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERNAME, user);
	curl_easy_setopt(h, CURLOPT_PASSWORD, password);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) body_len);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);

	for (long i = 1; i <= warmup; i++)
		if (one_call(h, -i, &connects) != 0)
			return 1;
	connects = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 1; i <= calls; i++)
		if (one_call(h, i, &connects) != 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);

	secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("calls=%ld seconds=%.6f ms_per_call=%.4f connects=%ld response_bytes=%zu\n",
		   calls, secs, secs * 1000.0 / (double) calls, connects, response_bytes);

	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	free(body);
	return 0;
}

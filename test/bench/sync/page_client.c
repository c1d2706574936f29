/*-------------------------------------------------------------------------
 *
 * page_client.c
 *	  The floor of the sync benchmark (sync.sh): a minimal libcurl client
 *	  that reads every page of one or more listings of the Comms API
 *	  (emulator), following pagination.next, sequentially, over one
 *	  keep-alive connection (one easy handle, set up once and reused).
 *
 *	  page_client --url BASE --user ID --password SECRET [--page-size N]
 *		  PATH...
 *
 * For each PATH (e.g. /Senders, /SenderPools, /SenderPools/{id}/Senders),
 * in order: GET BASE PATH?pageSize=N, then ...&pageToken=NEXT while
 * pagination.next is not null.  Every response must be 200 with a JSON
 * object holding an array ("senders", or "senderPools" for a path ending
 * in /SenderPools) and pagination.next: anything else stops the run with
 * exit status 1.
 *
 * Two clocks (CLOCK_MONOTONIC): fetch, around curl_easy_perform (request
 * out, whole body in: the emulator serving the page, plus loopback and
 * libcurl), and parse, around json-c parsing the body, counting its items
 * and taking the next token (the JSON library the extension uses).  The
 * floor is fetch; parse is reported beside it.
 *
 * Output, one line per PATH and a total, key=value:
 *	  path=P pages=N rows=R bytes=B fetch_s=S parse_s=S connects=C
 * connects counts the connections libcurl opened (1 in all when the
 * keep-alive connection was reused throughout).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static size_t
sink(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	Buf		   *b = userdata;
	size_t		n = size * nmemb;

	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 1 << 20;

		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((b->data = realloc(b->data, cap)) == NULL)
			return 0;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: page_client --url BASE --user ID --password SECRET [--page-size N] PATH...\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, 'u'},
		{"user", required_argument, NULL, 'U'},
		{"password", required_argument, NULL, 'P'},
		{"page-size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *base = NULL,
			   *user = NULL,
			   *password = NULL;
	int			page_size = 1000;
	int			c;
	CURL	   *easy;
	Buf			body = {NULL, 0, 0};
	long		t_pages = 0,
				t_rows = 0,
				t_bytes = 0,
				t_conns = 0;
	double		t_fetch = 0,
				t_parse = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'u': base = optarg; break;
			case 'U': user = optarg; break;
			case 'P': password = optarg; break;
			case 's': page_size = atoi(optarg); break;
			case 'h': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if (base == NULL || user == NULL || password == NULL || optind >= argc ||
		page_size < 1 || page_size > 1000)
	{
		usage(stderr);
		return 2;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((easy = curl_easy_init()) == NULL)
	{
		fprintf(stderr, "page_client: curl_easy_init failed\n");
		return 1;
	}
	curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	curl_easy_setopt(easy, CURLOPT_USERNAME, user);
	curl_easy_setopt(easy, CURLOPT_PASSWORD, password);
	curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);

	for (int a = optind; a < argc; a++)
	{
		const char *path = argv[a];
		size_t		plen = strlen(path);
		const char *items = (plen >= 12 && strcmp(path + plen - 12, "/SenderPools") == 0)
			? "senderPools" : "senders";
		char	   *token = NULL;
		long		pages = 0,
					rows = 0,
					bytes = 0,
					conns = 0;
		double		fetch = 0,
					parse = 0;

		for (;;)
		{
			char	   *url;
			char	   *enc = NULL;
			long		status = 0,
						nconn = 0;
			CURLcode	rc;
			double		t0,
						t1,
						t2;
			json_object *root,
					   *arr,
					   *pag,
					   *nx;

			if (token)
				enc = curl_easy_escape(easy, token, 0);
			if (asprintf(&url, "%s%s?pageSize=%d%s%s", base, path, page_size,
						 enc ? "&pageToken=" : "", enc ? enc : "") < 0)
				return 1;
			curl_free(enc);
			curl_easy_setopt(easy, CURLOPT_URL, url);
			body.len = 0;
			t0 = now();
			rc = curl_easy_perform(easy);
			t1 = now();
			if (rc != CURLE_OK)
			{
				fprintf(stderr, "page_client: GET %s: %s\n", url, curl_easy_strerror(rc));
				return 1;
			}
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &nconn);
			if (status != 200)
			{
				fprintf(stderr, "page_client: GET %s: status %ld: %.300s\n", url, status,
						body.data ? body.data : "");
				return 1;
			}
			root = json_tokener_parse(body.data ? body.data : "");
			if (root == NULL ||
				!json_object_object_get_ex(root, items, &arr) ||
				!json_object_is_type(arr, json_type_array) ||
				!json_object_object_get_ex(root, "pagination", &pag) ||
				!json_object_object_get_ex(pag, "next", &nx) ||
				!(nx == NULL || json_object_is_type(nx, json_type_string)))
			{
				fprintf(stderr, "page_client: GET %s: not a listing page of %s: %.300s\n", url,
						items, body.data ? body.data : "");
				return 1;
			}
			rows += (long) json_object_array_length(arr);
			free(token);
			token = nx ? strdup(json_object_get_string(nx)) : NULL;
			json_object_put(root);
			t2 = now();

			pages++;
			bytes += (long) body.len;
			conns += nconn;
			fetch += t1 - t0;
			parse += t2 - t1;
			free(url);
			if (token == NULL)
				break;
		}
		printf("path=%s pages=%ld rows=%ld bytes=%ld fetch_s=%.6f parse_s=%.6f connects=%ld\n",
			   path, pages, rows, bytes, fetch, parse, conns);
		t_pages += pages;
		t_rows += rows;
		t_bytes += bytes;
		t_conns += conns;
		t_fetch += fetch;
		t_parse += parse;
	}
	printf("path=total pages=%ld rows=%ld bytes=%ld fetch_s=%.6f parse_s=%.6f connects=%ld\n",
		   t_pages, t_rows, t_bytes, t_fetch, t_parse, t_conns);
	curl_easy_cleanup(easy);
	curl_global_cleanup();
	free(body.data);
	return 0;
}

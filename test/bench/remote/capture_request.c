/*-------------------------------------------------------------------------
 *
 * capture_request.c
 *	  A one-shot HTTP listener for latency.sh: it records the exact request
 *	  body comms_resolve's remote resolver sends, so that the floor client
 *	  sends the very same bytes.
 *
 *	  capture_request --port-file FILE --body-out FILE [--headers-out FILE]
 *
 * It listens on 127.0.0.1 (any free port, written to --port-file once it
 * listens), accepts one connection, reads one request (headers, then
 * Content-Length bytes of body), writes the body to --body-out and the
 * request line and headers to --headers-out (the Authorization value is
 * replaced by its scheme), answers 200 {"results": []} with "Connection:
 * close" and exits 0.  It gives up after 30 seconds (exit 1).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)

static void
fail(const char *what)
{
	fprintf(stderr, "capture_request: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fail(path);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port-file", required_argument, NULL, 'p'},
		{"body-out", required_argument, NULL, 'b'},
		{"headers-out", required_argument, NULL, 'H'},
		{NULL, 0, NULL, 0}
	};
	static const char answer[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Content-Length: 14\r\nConnection: close\r\n\r\n{\"results\":[]}";
	const char *port_file = NULL,
			   *body_out = NULL,
			   *headers_out = NULL;
	struct sockaddr_in addr;
	socklen_t	alen = sizeof(addr);
	char	   *buf = malloc(MAX_REQUEST + 1);
	size_t		len = 0,
				hlen = 0,
				clen = 0;
	char	   *eoh = NULL;
	int			ls,
				cs,
				c,
				one = 1;
	FILE	   *f;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		if (c == 'p')
			port_file = optarg;
		else if (c == 'b')
			body_out = optarg;
		else if (c == 'H')
			headers_out = optarg;
		else
			return 2;
	}
	if (port_file == NULL || body_out == NULL || buf == NULL)
	{
		fprintf(stderr, "usage: capture_request --port-file FILE --body-out FILE [--headers-out FILE]\n");
		return 2;
	}
	alarm(30);

	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		fail("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *) &addr, sizeof(addr)) != 0 || listen(ls, 1) != 0 ||
		getsockname(ls, (struct sockaddr *) &addr, &alen) != 0)
		fail("listen on 127.0.0.1");
	if ((f = fopen(port_file, "w")) == NULL || fprintf(f, "%d\n", ntohs(addr.sin_port)) < 0 ||
		fclose(f) != 0)
		fail(port_file);

	if ((cs = accept(ls, NULL, NULL)) < 0)
		fail("accept");
	for (;;)
	{
		ssize_t		n;

		if (eoh && len >= hlen + clen)
			break;
		if (len == MAX_REQUEST)
		{
			fprintf(stderr, "capture_request: request too large\n");
			return 1;
		}
		n = read(cs, buf + len, MAX_REQUEST - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			fprintf(stderr, "capture_request: connection closed before the whole request came\n");
			return 1;
		}
		len += (size_t) n;
		buf[len] = '\0';
		if (eoh == NULL && (eoh = strstr(buf, "\r\n\r\n")) != NULL)
		{
			hlen = (size_t) (eoh - buf) + 4;
			for (char *line = buf; line < eoh; line = strstr(line, "\r\n") + 2)
				if (strncasecmp(line, "Content-Length:", 15) == 0)
					clen = strtoul(line + 15, NULL, 10);
		}
	}
	write_file(body_out, buf + hlen, clen);
	if (headers_out)
	{
		/* request line and headers, without the credentials */
		if ((f = fopen(headers_out, "w")) == NULL)
			fail(headers_out);
		for (char *line = buf; line < eoh;)
		{
			char	   *end = strstr(line, "\r\n");

			if (strncasecmp(line, "Authorization:", 14) == 0)
			{
				char	   *sp = memchr(line + 15, ' ', (size_t) (end - line - 15));

				fprintf(f, "%.*s <redacted>\n", (int) ((sp ? sp : end) - line), line);
			}
			else
				fprintf(f, "%.*s\n", (int) (end - line), line);
			line = end + 2;
		}
		fclose(f);
	}
	if (write(cs, answer, sizeof(answer) - 1) != (ssize_t) (sizeof(answer) - 1))
		fail("write");
	shutdown(cs, SHUT_WR);
	close(cs);
	close(ls);
	return 0;
}

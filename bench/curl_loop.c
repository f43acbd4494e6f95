/*
 * curl_loop.c - the libcurl ceiling for `make bench`: a bare libcurl multi loop that
 * keeps N keep-alive POSTs in flight to one URL for a number of seconds and prints
 * the requests per second it achieved and its CPU per request (cpu_us). senderd's send
 * rate and CPU per message are reported as ratios of these, measured against the same
 * fake server in the same run.
 *
 * Usage: curl_loop URL PARALLEL SECONDS
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static const char body[] = "{\"chat_id\":1,\"text\":\"bench\"}";

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static CURL *new_handle(const char *url, struct curl_slist *headers)
{
	CURL *h = curl_easy_init();

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	return h;
}

int main(int argc, char **argv)
{
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	long done = 0;
	int parallel, running = 0;
	double seconds, start, end;
	struct rusage ru;
	CURLM *m;

	if (argc != 4) {
		fprintf(stderr, "usage: curl_loop URL PARALLEL SECONDS\n");
		return 1;
	}
	parallel = (int)strtol(argv[2], NULL, 10);
	seconds = strtod(argv[3], NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	for (int i = 0; i < parallel; i++)
		curl_multi_add_handle(m, new_handle(argv[1], headers));
	start = now();
	end = start + seconds;
	do {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			CURL *h = msg->easy_handle;

			if (msg->msg != CURLMSG_DONE)
				continue;
			done += msg->data.result == CURLE_OK;
			curl_multi_remove_handle(m, h);
			if (now() < end)
				curl_multi_add_handle(m,
						      h); /* again, on the kept-alive connection */
			else
				curl_easy_cleanup(h);
		}
		curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0 || now() < end);
	getrusage(RUSAGE_SELF, &ru);
	printf("CURL requests=%ld seconds=%.2f rps=%.0f cpu_us=%.0f\n", done, now() - start,
	       done / (now() - start),
	       done ? ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
		       ru.ru_stime.tv_usec) /
			       done
		    : 0.0);
	curl_multi_cleanup(m);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return 0;
}

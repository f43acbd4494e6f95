/*
 * test_httpc.c - the address classes a public-only HTTP client refuses.
 */
#include "common/httpc.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* is_public - tgm_httpc_addr_public of a numeric IPv4 or IPv6 address */
static int is_public(const char *text)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
		return tgm_httpc_addr_public((struct sockaddr *)&v4);
	if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1)
		return tgm_httpc_addr_public((struct sockaddr *)&v6);
	return -1;
}

int main(void)
{
	static const char *refused[] = {
		"127.0.0.1",
		"127.255.255.254",
		"10.0.0.1",
		"172.16.0.1",
		"172.31.255.255",
		"192.168.0.1",
		"169.254.169.254",
		"100.64.0.1",
		"0.0.0.0",
		"224.0.0.1",
		"255.255.255.255",
		"::1",
		"::",
		"fe80::1",
		"fd00::1",
		"fc00::1",
		"ff02::1",
		"::ffff:127.0.0.1",
		"::ffff:10.1.2.3",
		"fec0::1",
	};
	static const char *public[] = {
		"1.1.1.1",        "8.8.8.8",     "172.15.255.255",       "172.32.0.1",
		"100.128.0.1",    "192.169.0.1", "2001:4860:4860::8888", "2a00:1450::1",
		"::ffff:1.1.1.1",
	};

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		CHECK(is_public(refused[i]) == 0);
	for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
		CHECK(is_public(public[i]) == 1);
	return unit_done("httpc");
}

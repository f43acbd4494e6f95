/*
 * config.c - libFuzzer target for common/config.c: the input is written to a temporary
 * file and loaded as tgm.conf; it either loads or is refused with one line, and the
 * duration lists of the config are parsed from the input too.
 */
#include "common/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

/* forget - remove the temporary file when the fuzzer exits */
static void forget(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *text = malloc(size + 1);
	int64_t ms[TGM_CONFIG_DURATIONS_MAX];
	struct tgm_config *cfg;
	FILE *f;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "%s", "/tmp/tgm-fuzz-config.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(forget);
		unsetenv("CREDENTIALS_DIRECTORY");
	}
	f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	err[0] = '\0';
	cfg = tgm_config_load(path, err, sizeof(err));
	if (cfg == NULL && err[0] == '\0')
		abort();
	tgm_config_free(cfg);
	memcpy(text, data, size);
	text[size] = '\0';
	if (tgm_config_durations(text, ms, TGM_CONFIG_DURATIONS_MAX) > TGM_CONFIG_DURATIONS_MAX)
		abort();
	free(text);
	return 0;
}

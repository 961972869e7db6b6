/* fuzz_route.c: REQUEST_URI → route path and route matching never crash. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = bj_xstrndup((const char *)data, size), *path;
	static const char *methods[] = { "GET", "POST", "HEAD", "DELETE" };

	path = bj_route_path(uri, NULL, NULL, "/bulkjobs");
	if (path != NULL) {
		if (path[0] != '/')
			abort();
		for (size_t i = 0; i < 4; i++) {
			struct bj_req req;
			int mismatch;
			memset(&req, 0, sizeof req);
			(void)bj_route_match(&req, methods[i], path, &mismatch);
			bj_req_end(&req);
		}
	}
	free(path);
	free(uri);
	return 0;
}

/*
 * ref_https: the cheapest libcurl HTTPS call to the EC2 endpoint, as a yardstick for ours.
 *
 *     ref_https file CA_FILE     trust anchors from one PEM file (CURLOPT_CAINFO)
 *     ref_https dir  CA_DIR      trust anchors looked up by subject hash in a c_rehash
 *                                directory (CURLOPT_CAPATH, no CAINFO): only the issuer of the
 *                                server's chain is ever parsed
 *
 * One GET of https://ec2.us-east-1.amazonaws.com/ (any HTTP status will do), nothing else:
 * no signing, no XML, no IMDS.  Built and run by bench/run (profile section).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

int main(int argc, char **argv)
{
    CURL *c;
    CURLcode rc;

    if (argc != 3 || (strcmp(argv[1], "file") != 0 && strcmp(argv[1], "dir") != 0)) {
        fprintf(stderr, "usage: ref_https file|dir PATH\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c = curl_easy_init();
    if (c == NULL)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, "https://ec2.us-east-1.amazonaws.com/");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (strcmp(argv[1], "file") == 0) {
        curl_easy_setopt(c, CURLOPT_CAINFO, argv[2]);
        curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    } else {
        curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(c, CURLOPT_CAPATH, argv[2]);
    }
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fprintf(stderr, "ref_https: %s\n", curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return rc == CURLE_OK ? 0 : 1;
}

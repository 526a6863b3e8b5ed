/*
 * vs_s3_upload() (s3.h): objects in stages, several at once (libcurl's
 * multi interface), large ones in parts (multipart upload), those already
 * stored with the same content skipped.
 */
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "codec.h"
#include "error.h"
#include "s3.h"
#include "s3req.h"

/* The ETag S3 gives an object uploaded in parts of part bytes. */
static int multipart_etag(const char *path, long long size, long long part, char *out, size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[16];
	unsigned int k = 0;
	int parts = 0;

	if (!c)
		return -1;
	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	for (long long off = 0; off < size; off += part, parts++) {
		char sha[65], md5[33];
		unsigned char raw[16];

		if (vs_s3_digest_file(path, off, size - off < part ? size - off : part, sha, md5) < 0) {
			EVP_MD_CTX_free(c);
			return -1;
		}
		for (int i = 0; i < 16; i++) {
			unsigned int b;

			sscanf(md5 + 2 * i, "%2x", &b);
			raw[i] = (unsigned char)b;
		}
		EVP_DigestUpdate(c, raw, 16);
	}
	EVP_DigestFinal_ex(c, md, &k);
	EVP_MD_CTX_free(c);
	vs_codec_hex(md, 16, out);
	snprintf(out + 32, n - 32, "-%d", parts);
	return 0;
}

static int put_multipart(struct vs_s3 *s, const char *bucket, struct vs_s3_object *o)
{
	char *url = vs_s3_url(s, bucket, o->key), *u = NULL, *xml = NULL, *id = NULL;
	char ct[256], cc[256];
	const char *extra[] = {ct, cc, NULL};
	struct vs_s3_req r = {0};
	size_t xl = 0;
	FILE *x = NULL;
	long long part = s->multipart_threshold;
	int ret, n = 0;

	snprintf(ct, sizeof(ct), "Content-Type: %s", o->content_type);
	snprintf(cc, sizeof(cc), "Cache-Control: %s", o->cache_control);
	if (!url || asprintf(&u, "%s?uploads=", url) < 0) { /* "=": libcurl signs it so */
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	ret = vs_s3_run(s, &r, "POST", u, NULL, 0, 0, "", extra, o->key);
	if (ret < 0)
		goto out;
	{
		const char *a = r.resp.data ? strstr(r.resp.data, "<UploadId>") : NULL;
		const char *b = a ? strstr(a, "</UploadId>") : NULL;

		if (!a || !b) {
			ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "%s: no UploadId in the answer", o->key);
			goto out;
		}
		id = strndup(a + 10, (size_t)(b - a - 10));
	}
	x = id ? open_memstream(&xml, &xl) : NULL;
	if (!x) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	fputs("<CompleteMultipartUpload>", x);
	for (long long off = 0; off < o->size && ret == 0; off += part) {
		long long len = o->size - off < part ? o->size - off : part;

		free(u);
		if (asprintf(&u, "%s?partNumber=%d&uploadId=%s", url, ++n, id) < 0) {
			u = NULL;
			ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			break;
		}
		ret = vs_s3_run(s, &r, "PUT", u, o->path, off, len, NULL, NULL, o->key);
		if (ret == 0)
			fprintf(x, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>", n, r.etag);
	}
	fputs("</CompleteMultipartUpload>", x);
	if (fclose(x) != 0 && ret == 0)
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	free(u);
	u = NULL;
	/* out of memory here must not pass for a completed upload */
	if (ret == 0 && asprintf(&u, "%s?uploadId=%s", url, id) < 0) {
		u = NULL;
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	} else if (ret == 0) {
		ret = vs_s3_run(s, &r, "POST", u, NULL, 0, 0, xml, NULL, o->key);
	}
	if (ret == 0 && r.resp.data && strstr(r.resp.data, "<Error>"))
		ret = vs_fail(VS_ERR, VS_E_DOWNLOAD, "%s: the store refused to complete the upload", o->key);
	if (ret < 0 && id && u) { /* do not leave parts behind */
		int keep = ret;
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", vs_error_message());
		vs_s3_run(s, &r, "DELETE", u, NULL, 0, 0, NULL, NULL, o->key);
		vs_fail(keep, VS_E_DOWNLOAD, "%s", msg);
		ret = keep;
	}
out:
	vs_s3_req_release(&r);
	free(xml);
	free(id);
	free(u);
	free(url);
	return ret;
}

/* Uploads the objects of one stage, VS_S3_PARALLEL at a time. */
static int upload_stage(struct vs_s3 *s, const char *bucket, struct vs_s3_object **objs, int n)
{
	CURLM *m = curl_multi_init();
	struct vs_s3_req *reqs = calloc((size_t)n, sizeof(*reqs));
	int *tries = calloc((size_t)n, sizeof(int));
	int next = 0, running = 0, active = 0, ret = 0;
	char failed[512] = "", failed_code[32] = "";
	char **urls = calloc((size_t)n, sizeof(char *));
	char (*hdr)[2][256] = calloc((size_t)n, sizeof(*hdr));

	if (!m || !reqs || !tries || !urls || !hdr) {
		ret = vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
		goto out;
	}
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)VS_S3_PARALLEL);
	while (ret == 0 && (next < n || active > 0)) {
		CURLMsg *msg;
		int left;

		while (ret == 0 && next < n && active < VS_S3_PARALLEL) {
			struct vs_s3_object *o = objs[next];
			const char *extra[] = {hdr[next][0], hdr[next][1], NULL};

			snprintf(hdr[next][0], 256, "Content-Type: %s", o->content_type);
			snprintf(hdr[next][1], 256, "Cache-Control: %s", o->cache_control);
			urls[next] = vs_s3_url(s, bucket, o->key);
			ret = urls[next] ? vs_s3_req_init(s, &reqs[next], "PUT", urls[next], o->path, 0, o->size, NULL, extra)
			                 : vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
			if (ret < 0)
				break;
			curl_easy_setopt(reqs[next].c, CURLOPT_PRIVATE, (char *)(intptr_t)next);
			curl_multi_add_handle(m, reqs[next].c);
			active++;
			next++;
		}
		if (ret < 0)
			break;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			char *priv = NULL;
			int i, r;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			i = (int)(intptr_t)priv;
			curl_multi_remove_handle(m, msg->easy_handle);
			active--;
			r = vs_s3_outcome(&reqs[i], msg->data.result, objs[i]->key);
			if (r == VS_ETEMP && tries[i] < VS_S3_RETRIES) {
				/* again, after a pause that grows */
				const char *extra[] = {hdr[i][0], hdr[i][1], NULL};

				usleep((useconds_t)VS_S3_BACKOFF_MS * 1000u << tries[i]);
				tries[i]++;
				vs_s3_req_release(&reqs[i]);
				r = vs_s3_req_init(s, &reqs[i], "PUT", urls[i], objs[i]->path, 0, objs[i]->size, NULL, extra);
				if (r == 0) {
					curl_easy_setopt(reqs[i].c, CURLOPT_PRIVATE, (char *)(intptr_t)i);
					curl_multi_add_handle(m, reqs[i].c);
					active++;
					continue;
				}
			}
			if (r < 0 && ret == 0) {
				/* kept: a retried answer of another object would
				 * overwrite the message of the one that failed */
				ret = r;
				snprintf(failed_code, sizeof(failed_code), "%s", vs_error_code());
				snprintf(failed, sizeof(failed), "%s", vs_error_message());
			}
		}
		if (active > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	if (ret < 0 && failed[0])
		vs_fail(ret, failed_code, "%s", failed);
out:
	for (int i = 0; reqs && i < n; i++) {
		if (reqs[i].c)
			curl_multi_remove_handle(m, reqs[i].c);
		vs_s3_req_release(&reqs[i]);
		free(urls ? urls[i] : NULL);
	}
	curl_multi_cleanup(m);
	free(reqs);
	free(tries);
	free(urls);
	free(hdr);
	return ret;
}

int vs_s3_upload(struct vs_s3 *s, const char *bucket, struct vs_s3_object *objs, const int *stage, int n)
{
	struct vs_s3_object **batch = calloc((size_t)n + 1, sizeof(*batch));
	int ret = 0;

	if (!batch)
		return vs_fail(VS_ERR, VS_E_INTERNAL, "out of memory");
	for (int i = 0; i < n && ret == 0;) {
		int nb = 0, st = stage[i];

		for (; i < n && stage[i] == st && ret == 0; i++) {
			struct vs_s3_object *o = &objs[i];
			struct stat sb;
			char etag[128], want[64], sha[65], plain[33];
			long long size = 0;
			bool exists = false;

			if (stat(o->path, &sb) != 0) {
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s': %s", o->path, strerror(errno));
				break;
			}
			o->size = sb.st_size;
			ret = vs_s3_head(s, bucket, o->key, &exists, &size, etag, sizeof(etag), NULL, 0);
			if (ret < 0)
				break;
			/* S3 gives a multipart object the MD5 of its parts' MD5s;
			 * some compatible stores give the plain MD5: either will do */
			ret = vs_s3_digest_file(o->path, 0, o->size, sha, plain);
			if (ret == 0 && o->size >= s->multipart_threshold)
				ret = multipart_etag(o->path, o->size, s->multipart_threshold, want, sizeof(want));
			else
				snprintf(want, sizeof(want), "%s", plain);
			if (ret < 0) {
				ret = vs_fail(VS_ERR, VS_E_IO, "cannot read '%s'", o->path);
				break;
			}
			if (exists && size == o->size && (!strcasecmp(etag, want) || !strcasecmp(etag, plain))) {
				o->skipped = true;
				continue;
			}
			if (o->size >= s->multipart_threshold)
				ret = put_multipart(s, bucket, o);
			else
				batch[nb++] = o;
		}
		if (ret == 0 && nb > 0)
			ret = upload_stage(s, bucket, batch, nb);
	}
	free(batch);
	return ret;
}

<?php
/*
 * Submit an export, print its status page, wait for it, download the result.
 *
 * usage: BULKJOBS_URL=https://example.org/bulkjobs BULKJOBS_TOKEN=bj_... \
 *        php export.php OUT_FILE [IDEMPOTENCY_KEY]
 *
 * The token needs the submit scope and belongs to BULKJOBS_OWNER. The
 * artifact is downloaded from the job's status page, which sits behind the
 * site's own login: BULKJOBS_USER and BULKJOBS_PASSWORD (HTTP Basic). With
 * BULKJOBS_WEBHOOK set, the job's end is also posted there, signed.
 * Only PHP's curl extension.
 */
$url = rtrim(getenv('BULKJOBS_URL'), '/');
$token = getenv('BULKJOBS_TOKEN');
$tables = ['customers', 'orders', 'invoices'];

/* One API call; retried on 503 and lost connections (every call here is safe to retry). */
function api(string $method, string $path, ?array $body = null, array $headers = []): array
{
    global $url, $token;
    for ($attempt = 1; ; $attempt++) {
        $ch = curl_init($url . $path);
        curl_setopt_array($ch, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_HTTPHEADER => array_merge(["Authorization: Bearer $token",
                'Content-Type: application/json'], $headers),
        ]);
        if ($body !== null) {
            curl_setopt($ch, CURLOPT_POSTFIELDS, json_encode($body));
        }
        $text = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        if ($text !== false && $status < 400) {
            return [$status, json_decode($text, true)];
        }
        if (($text !== false && $status != 503) || $attempt == 5) {
            fwrite(STDERR, "$method $path: $status $text\n");
            exit(1);
        }
        sleep(1);
    }
}

/*
 * The job if it changed since the answer tagged $etag, else null; its tag;
 * the seconds to wait. The server answers 304 without a body while nothing
 * changed, and says in Poll-Interval how long to wait before asking again.
 */
function poll(int $id, ?string $etag): array
{
    global $url, $token;
    $headers = [];
    $ch = curl_init("$url/v1/jobs/$id");
    curl_setopt_array($ch, [
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_TIMEOUT => 30,
        CURLOPT_HTTPHEADER => array_merge(["Authorization: Bearer $token"],
            $etag !== null ? ["If-None-Match: $etag"] : []),
        CURLOPT_HEADERFUNCTION => function ($ch, $line) use (&$headers) {
            $parts = explode(':', $line, 2);
            if (count($parts) == 2) {
                $headers[strtolower(trim($parts[0]))] = trim($parts[1]);
            }
            return strlen($line);
        },
    ]);
    $text = curl_exec($ch);
    $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
    curl_close($ch);
    $wait = (int)($headers['poll-interval'] ?? $headers['retry-after'] ?? 5);
    if ($text === false || $status == 304 || $status == 503) {
        return [null, $etag, $wait]; // unchanged, busy, or a lost connection: ask again later
    }
    if ($status >= 400) {
        fwrite(STDERR, "GET /v1/jobs/$id: $status $text\n");
        exit(1);
    }
    return [json_decode($text, true), $headers['etag'] ?? null, $wait];
}

$out = $argv[1];
// the same key sent again (say, after a timeout) answers the same job
$key = $argv[2] ?? 'export-' . bin2hex(random_bytes(16));
$items = array_map(fn ($t) => ['key' => $t, 'payload' => ['table' => $t]], $tables);
$items[] = ['key' => 'merge', 'stage' => 1, 'payload' => ['tables' => $tables]];
$spec = [
    'kind' => 'export',
    'owner' => getenv('BULKJOBS_OWNER') ?: 'alice',
    'title' => 'Export of ' . implode(', ', $tables),
    'items' => $items,
];
if (getenv('BULKJOBS_WEBHOOK')) {
    $spec['notify'] = ['webhooks' => [getenv('BULKJOBS_WEBHOOK')]];
}
[$status, $job] = api('POST', '/v1/jobs', $spec, ["Idempotency-Key: $key"]);
printf("job %d %s; follow it at %s\n", $job['id'],
    $status == 201 ? 'created' : 'already there', $job['links']['status_page']);

$active = fn ($j) => in_array($j['state'], ['queued', 'running', 'paused']);
$etag = null;
while ($active($job)) {
    [$got, $etag, $wait] = poll($job['id'], $etag);
    if ($got === null) {
        printf("%s: unchanged\n", $job['state']);
    } else {
        $job = $got;
        printf("%s: %d of %d items done\n", $job['state'], $job['counts']['succeeded'],
            $job['counts']['total']);
    }
    if ($active($job)) {
        sleep(max($wait, 1));
    }
}
if ($job['state'] != 'succeeded') {
    fwrite(STDERR, "the export ended {$job['state']}\n");
    exit(1);
}

$file = fopen($out, 'wb');
$ch = curl_init($job['links']['status_page'] . '/download');
curl_setopt_array($ch, [
    CURLOPT_FILE => $file,
    CURLOPT_FAILONERROR => true,
    CURLOPT_TIMEOUT => 60,
    CURLOPT_HTTPAUTH => CURLAUTH_BASIC,
    CURLOPT_USERPWD => getenv('BULKJOBS_USER') . ':' . getenv('BULKJOBS_PASSWORD'),
]);
if (!curl_exec($ch)) {
    fwrite(STDERR, 'download: ' . curl_error($ch) . "\n");
    exit(1);
}
fclose($file);
printf("downloaded %s (%d bytes) to %s\n", $job['artifact'], filesize($out), $out);

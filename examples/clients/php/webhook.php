<?php
/*
 * An endpoint for bulkjobs webhooks that verifies their signatures.
 *
 * usage: BULKJOBS_WEBHOOK_SECRET=whsec_... php -S 127.0.0.1:8099 webhook.php
 * (or any URL of your application that runs it)
 *
 * Standard Webhooks: webhook-signature holds "v1,<base64>" entries; each is
 * the HMAC-SHA256, keyed with the base64-decoded secret after "whsec_", of
 * "<webhook-id>.<webhook-timestamp>.<body>". A bad signature, or a timestamp
 * more than five minutes off (a replay), is refused with 401.
 */
const TOLERANCE = 300;

/* The event if the delivery is authentic and fresh, else null. */
function verify(string $secret, string $id, string $stamp, string $signatures, string $body): ?array
{
    if ($id === '' || !ctype_digit($stamp) || abs(time() - (int)$stamp) > TOLERANCE) {
        return null;
    }
    $key = base64_decode(substr($secret, strlen('whsec_')));
    $expected = base64_encode(hash_hmac('sha256', "$id.$stamp.$body", $key, true));
    foreach (explode(' ', $signatures) as $entry) {
        [$version, $sig] = array_pad(explode(',', $entry, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $sig)) {
            return json_decode($body, true);
        }
    }
    return null;
}

$body = file_get_contents('php://input');
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$event = verify(getenv('BULKJOBS_WEBHOOK_SECRET'), $id,
    $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '', $body);
if ($event === null) {
    error_log('refused: a bad or stale signature');
    http_response_code(401);
    exit;
}
// deliveries are at least once: a real receiver skips a webhook-id it has seen
$job = $event['data'];
error_log(sprintf('%s: job %d %s (%s)', $id, $job['id'], $event['type'],
    $job['links']['status_page']));
http_response_code(204);

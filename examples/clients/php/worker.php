<?php
/*
 * A worker for export items: claim, heartbeat, complete or fail.
 *
 * usage: BULKJOBS_URL=... BULKJOBS_TOKEN=bj_... BULKJOBS_ARTIFACTS=/var/lib/bulkjobs/artifacts \
 *        php worker.php [--drain]
 *
 * The token needs the work scope. Stage 0 items write one table each as CSV
 * under the artifacts root; the stage 1 item "merge" joins them into
 * export.csv, which becomes the job's artifact. A bad table name fails the
 * item for good; any other error is retried. --drain stops when nothing is due.
 * Only PHP's curl extension.
 */
$url = rtrim(getenv('BULKJOBS_URL'), '/');
$token = getenv('BULKJOBS_TOKEN');
$root = getenv('BULKJOBS_ARTIFACTS');
$worker = gethostname() . '-' . getmypid();

/* The item was taken back (lease ran out, job cancelled): drop it. */
class LeaseLost extends Exception
{
}

/* A failure no retry can fix. */
class Permanent extends Exception
{
}

/* One API call, retried on 503 and lost connections: every worker call is safe to retry. */
function api(string $path, array $body, array $headers = []): array
{
    global $url, $token;
    for ($attempt = 1; ; $attempt++) {
        $ch = curl_init($url . $path);
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => json_encode($body),
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_HTTPHEADER => array_merge(["Authorization: Bearer $token",
                'Content-Type: application/json'], $headers),
        ]);
        $text = curl_exec($ch);
        $status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        curl_close($ch);
        if ($text !== false && $status < 400) {
            return json_decode($text, true);
        }
        if ($status == 409) {
            throw new LeaseLost(json_decode($text, true)['error']['message']);
        }
        if (($text !== false && $status != 503) || $attempt == 5) {
            fwrite(STDERR, "POST $path: $status $text\n");
            exit(1);
        }
        sleep(1);
    }
}

/* Do one item; the artifact's path relative to the root. */
function work(array $item, callable $beat): string
{
    global $root;
    $dir = "exports/{$item['job_id']}";
    @mkdir("$root/$dir", 0755, true);
    if ($item['key'] == 'merge') {
        $tables = $item['payload']['tables'];
        $out = fopen("$root/$dir/export.csv", 'wb');
        foreach ($tables as $n => $table) {
            fwrite($out, file_get_contents("$root/$dir/$table.csv"));
            $beat($n + 1, count($tables));
        }
        fclose($out);
        return "$dir/export.csv";
    }
    $table = $item['payload']['table'];
    if (!preg_match('/^[a-z_]+$/', $table)) {
        throw new Permanent("no such table: $table");
    }
    $csv = "table,row\n";
    for ($i = 0; $i < 3; $i++) {
        $csv .= "$table,$i\n";
    }
    if (file_put_contents("$root/$dir/$table.csv", $csv) === false) {
        throw new RuntimeException("cannot write $dir/$table.csv");
    }
    $beat(1, 1);
    return "$dir/$table.csv";
}

$drain = in_array('--drain', $argv);
while (true) {
    // one key per claim: a retry after a lost answer gets the same items back
    $items = api('/v1/claims', ['worker' => $worker, 'kinds' => ['export'], 'limit' => 5,
        'lease_seconds' => 60], ['Idempotency-Key: ' . bin2hex(random_bytes(16))])['items'];
    if (!$items) {
        if ($drain) {
            break;
        }
        sleep(2);
        continue;
    }
    foreach ($items as $item) {
        $lease = $item['lease_token'];
        $path = "/v1/items/{$item['id']}";
        $beat = function (int $done, int $total) use ($path, $lease) {
            $r = api("$path/heartbeat", ['lease_token' => $lease,
                'progress' => ['done' => $done, 'total' => $total]]);
            if ($r['job_state'] == 'cancelled') {
                throw new LeaseLost('the job was cancelled');
            }
        };
        try {
            $beat(0, 1);
            $artifact = work($item, $beat);
            api("$path/complete", ['lease_token' => $lease, 'artifact' => $artifact]);
            echo "completed item {$item['id']} ({$item['key']})\n";
        } catch (LeaseLost $e) {
            echo "dropped item {$item['id']}: {$e->getMessage()}\n";
        } catch (Exception $e) {
            try {
                api("$path/fail", ['lease_token' => $lease, 'error' => $e->getMessage(),
                    'retryable' => !($e instanceof Permanent)]);
                echo "failed item {$item['id']}: {$e->getMessage()}\n";
            } catch (LeaseLost $gone) {
            }
        }
    }
}

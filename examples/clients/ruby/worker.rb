# A worker for export items: claim, heartbeat, complete or fail.
#
# usage: BULKJOBS_URL=... BULKJOBS_TOKEN=bj_... BULKJOBS_ARTIFACTS=/var/lib/bulkjobs/artifacts \
#        ruby worker.rb [--drain]
#
# The token needs the work scope. Stage 0 items write one table each as CSV
# under the artifacts root; the stage 1 item "merge" joins them into
# export.csv, which becomes the job's artifact. A bad table name fails the
# item for good; any other error is retried. --drain stops when nothing is due.
# Only the standard library: net/http.
require "fileutils"
require "json"
require "net/http"
require "securerandom"
require "socket"

BASE = ENV.fetch("BULKJOBS_URL").chomp("/")
TOKEN = ENV.fetch("BULKJOBS_TOKEN")
ROOT = ENV.fetch("BULKJOBS_ARTIFACTS")
WORKER = "#{Socket.gethostname}-#{Process.pid}"

# The item was taken back (lease ran out, job cancelled): drop it.
class LeaseLost < StandardError; end
# A failure no retry can fix.
class Permanent < StandardError; end

# One API call, retried on 503 and lost connections: every worker call is safe to retry.
def api(path, body, headers = {})
  uri = URI(BASE + path)
  attempts = 0
  begin
    attempts += 1
    res = Net::HTTP.post(uri, JSON.generate(body), "Authorization" => "Bearer #{TOKEN}",
                                                  "Content-Type" => "application/json", **headers)
    raise LeaseLost, JSON.parse(res.body)["error"]["message"] if res.code == "409"
    raise IOError, "503" if res.code == "503" && attempts < 5
    abort "POST #{path}: #{res.code} #{res.body}" unless res.is_a?(Net::HTTPSuccess)
    JSON.parse(res.body)
  rescue IOError, SystemCallError
    raise if attempts >= 5
    sleep 1
    retry
  end
end

# Do one item; the artifact's path relative to the root.
def work(item, beat)
  dir = "exports/#{item['job_id']}"
  FileUtils.mkdir_p(File.join(ROOT, dir))
  if item["key"] == "merge"
    tables = item["payload"]["tables"]
    File.open(File.join(ROOT, dir, "export.csv"), "wb") do |out|
      tables.each_with_index do |table, n|
        out.write(File.read(File.join(ROOT, dir, "#{table}.csv")))
        beat.call(n + 1, tables.size)
      end
    end
    return "#{dir}/export.csv"
  end
  table = item["payload"]["table"]
  raise Permanent, "no such table: #{table}" unless table.match?(/\A[a-z_]+\z/)

  File.write(File.join(ROOT, dir, "#{table}.csv"),
             "table,row\n" + (0..2).map { |i| "#{table},#{i}\n" }.join)
  beat.call(1, 1)
  "#{dir}/#{table}.csv"
end

drain = ARGV.include?("--drain")
$stdout.sync = true
loop do
  # one key per claim: a retry after a lost answer gets the same items back
  items = api("/v1/claims", { worker: WORKER, kinds: ["export"], limit: 5, lease_seconds: 60 },
              "Idempotency-Key" => SecureRandom.uuid)["items"]
  if items.empty?
    break if drain

    sleep 2
    next
  end
  items.each do |item|
    lease = item["lease_token"]
    path = "/v1/items/#{item['id']}"
    beat = lambda do |done, total|
      state = api("#{path}/heartbeat", { lease_token: lease,
                                         progress: { done: done, total: total } })["job_state"]
      raise LeaseLost, "the job was cancelled" if state == "cancelled"
    end
    begin
      beat.call(0, 1)
      artifact = work(item, beat)
      api("#{path}/complete", { lease_token: lease, artifact: artifact })
      puts "completed item #{item['id']} (#{item['key']})"
    rescue LeaseLost => e
      puts "dropped item #{item['id']}: #{e.message}"
    rescue StandardError => e
      begin
        api("#{path}/fail", { lease_token: lease, error: e.message,
                              retryable: !e.is_a?(Permanent) })
        puts "failed item #{item['id']}: #{e.message}"
      rescue LeaseLost
        nil
      end
    end
  end
end

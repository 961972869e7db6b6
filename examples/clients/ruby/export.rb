# Submit an export, print its status page, wait for it, download the result.
#
# usage: BULKJOBS_URL=https://example.org/bulkjobs BULKJOBS_TOKEN=bj_... \
#        ruby export.rb OUT_FILE [IDEMPOTENCY_KEY]
#
# The token needs the submit scope and belongs to BULKJOBS_OWNER. The
# artifact is downloaded from the job's status page, which sits behind the
# site's own login: BULKJOBS_USER and BULKJOBS_PASSWORD (HTTP Basic). With
# BULKJOBS_WEBHOOK set, the job's end is also posted there, signed.
# Only the standard library: net/http.
require "json"
require "net/http"
require "securerandom"

BASE = ENV.fetch("BULKJOBS_URL").chomp("/")
TOKEN = ENV.fetch("BULKJOBS_TOKEN")
TABLES = %w[customers orders invoices].freeze

# One API call; retried on 503 and lost connections (every call here is safe to retry).
def api(method, path, body = nil, headers = {})
  uri = URI(BASE + path)
  attempts = 0
  begin
    attempts += 1
    req = Net::HTTPGenericRequest.new(method, !body.nil?, true, uri,
                                      "Authorization" => "Bearer #{TOKEN}",
                                      "Content-Type" => "application/json", **headers)
    req.body = JSON.generate(body) if body
    res = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https",
                                              read_timeout: 30) { |http| http.request(req) }
    raise IOError, "503" if res.code == "503" && attempts < 5
    abort "#{method} #{path}: #{res.code} #{res.body}" unless res.is_a?(Net::HTTPSuccess)
    [res.code.to_i, JSON.parse(res.body)]
  rescue IOError, SystemCallError
    raise if attempts >= 5
    sleep 1
    retry
  end
end

# The job if it changed since the answer tagged etag, else nil; its tag; the
# seconds to wait. The server answers 304 without a body while nothing
# changed, and says in Poll-Interval how long to wait before asking again.
def poll(id, etag)
  uri = URI("#{BASE}/v1/jobs/#{id}")
  req = Net::HTTP::Get.new(uri, "Authorization" => "Bearer #{TOKEN}")
  req["If-None-Match"] = etag if etag
  res = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https",
                                            read_timeout: 30) { |http| http.request(req) }
  wait = (res["Poll-Interval"] || res["Retry-After"] || "5").to_i
  return [nil, etag, wait] if %w[304 503].include?(res.code)
  abort "GET /v1/jobs/#{id}: #{res.code} #{res.body}" unless res.is_a?(Net::HTTPSuccess)
  [JSON.parse(res.body), res["ETag"], wait]
rescue IOError, SystemCallError
  [nil, etag, 5] # a lost connection: ask again later
end

out = ARGV.fetch(0)
# the same key sent again (say, after a timeout) answers the same job
key = ARGV[1] || "export-#{SecureRandom.uuid}"
spec = {
  kind: "export", owner: ENV.fetch("BULKJOBS_OWNER", "alice"),
  title: "Export of #{TABLES.join(', ')}",
  items: TABLES.map { |t| { key: t, payload: { table: t } } } +
         [{ key: "merge", stage: 1, payload: { tables: TABLES } }]
}
spec[:notify] = { webhooks: [ENV["BULKJOBS_WEBHOOK"]] } if ENV["BULKJOBS_WEBHOOK"]
status, job = api("POST", "/v1/jobs", spec, "Idempotency-Key" => key)
puts "job #{job['id']} #{status == 201 ? 'created' : 'already there'}; " \
     "follow it at #{job['links']['status_page']}"
$stdout.flush

ACTIVE = %w[queued running paused].freeze
etag = nil
while ACTIVE.include?(job["state"])
  got, etag, wait = poll(job["id"], etag)
  if got.nil?
    puts "#{job['state']}: unchanged"
  else
    job = got
    puts "#{job['state']}: #{job['counts']['succeeded']} of #{job['counts']['total']} items done"
  end
  $stdout.flush
  sleep [wait, 1].max if ACTIVE.include?(job["state"])
end
abort "the export ended #{job['state']}" unless job["state"] == "succeeded"

uri = URI(job["links"]["status_page"] + "/download")
Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https") do |http|
  req = Net::HTTP::Get.new(uri)
  req.basic_auth(ENV.fetch("BULKJOBS_USER"), ENV.fetch("BULKJOBS_PASSWORD"))
  http.request(req) do |res|
    abort "download: #{res.code}" unless res.is_a?(Net::HTTPSuccess)
    File.open(out, "wb") { |f| res.read_body { |chunk| f.write(chunk) } }
  end
end
puts "downloaded #{job['artifact']} (#{File.size(out)} bytes) to #{out}"

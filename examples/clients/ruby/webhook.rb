# An endpoint for bulkjobs webhooks that verifies their signatures.
#
# usage: BULKJOBS_WEBHOOK_SECRET=whsec_... ruby webhook.rb PORT
#
# Standard Webhooks: webhook-signature holds "v1,<base64>" entries; each is
# the HMAC-SHA256, keyed with the base64-decoded secret after "whsec_", of
# "<webhook-id>.<webhook-timestamp>.<body>". A bad signature, or a timestamp
# more than five minutes off (a replay), is refused with 401. In a Rails
# controller, call BulkjobsWebhook.verify with request.headers and
# request.raw_post. The server here is WEBrick, which Debian's ruby brings.
require "base64"
require "json"
require "openssl"
require "webrick"

module BulkjobsWebhook
  TOLERANCE = 300

  # The event if the delivery is authentic and fresh, else nil.
  def self.verify(secret, id, stamp, signatures, body)
    return nil if id.to_s.empty? || !stamp.to_s.match?(/\A\d+\z/) ||
                  (Time.now.to_i - stamp.to_i).abs > TOLERANCE

    key = Base64.decode64(secret.delete_prefix("whsec_"))
    expected = Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{stamp}.#{body}"))
    signatures.to_s.split(" ").each do |entry|
      version, sig = entry.split(",", 2)
      return JSON.parse(body) if version == "v1" && sig &&
                                 OpenSSL.secure_compare(sig, expected)
    end
    nil
  end
end

$stdout.sync = true
server = WEBrick::HTTPServer.new(BindAddress: "127.0.0.1", Port: Integer(ARGV.fetch(0)),
                                 AccessLog: [], Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN))
server.mount_proc "/" do |req, res|
  event = BulkjobsWebhook.verify(ENV.fetch("BULKJOBS_WEBHOOK_SECRET"), req["webhook-id"],
                                 req["webhook-timestamp"], req["webhook-signature"], req.body.to_s)
  if event.nil?
    puts "refused: a bad or stale signature"
    res.status = 401
  else
    # deliveries are at least once: a real receiver skips a webhook-id it has seen
    job = event["data"]
    puts "#{req['webhook-id']}: job #{job['id']} #{event['type']} (#{job['links']['status_page']})"
    res.status = 204
  end
end
trap("TERM") { server.shutdown }
server.start

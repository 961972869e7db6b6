// pgboss_bench.js: the pg-boss peer of claim_complete. Inserts N jobs into a
// fresh queue, then W concurrent workers fetch batches of B and complete
// each batch with one call, until a fetch comes back empty; prints items/s
// from the first insert to the last completion as JSON, as bench/claimer
// does for ours (submit included).
//
// usage: NODE_PATH=.../node_modules node pgboss_bench.js SOCKET_DIR PORT N WORKERS BATCH

const PgBoss = require('pg-boss')

async function main () {
  const [dir, port, n, workers, batch] = process.argv.slice(2)
  const total = Number(n)
  const boss = new PgBoss({
    host: dir, port: Number(port), user: 'postgres', database: 'postgres',
    max: Number(workers) + 2,
    schedule: false,      // no cron: nothing runs beside the bench
    supervise: false      // no maintenance sweeps in the middle of a round
  })
  boss.on('error', e => { console.error(e); process.exit(1) })
  await boss.start()
  // a fresh queue each round, so an earlier round leaves nothing to fetch
  const queue = 'bench' + Date.now()
  await boss.createQueue(queue)

  const t0 = process.hrtime.bigint()
  // as one POST /v1/jobs carries all items, send them in few large inserts
  for (let i = 0; i < total; i += 10000) {
    const jobs = []
    for (let j = i; j < Math.min(total, i + 10000); j++) {
      jobs.push({ name: queue, data: { n: j } })
    }
    await boss.insert(jobs)
  }
  let done = 0
  async function worker () {
    for (;;) {
      const got = await boss.fetch(queue, { batchSize: Number(batch) })
      if (!got || got.length === 0) return
      await boss.complete(queue, got.map(j => j.id))
      done += got.length
    }
  }
  await Promise.all(Array.from({ length: Number(workers) }, worker))
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const left = await boss.getQueueSize(queue, { before: 'completed' })
  await boss.stop({ graceful: false, wait: true })
  console.log(JSON.stringify({ items: done, left, seconds: secs, items_per_s: done / secs }))
}

main().catch(e => { console.error(e); process.exit(1) })

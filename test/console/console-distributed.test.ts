/**
 * [integration] The web console on a distributed cluster (two `sluice distributed` workers on the
 * shared Kafka), in headless Chromium: opened on the follower, it shows the whole cluster — both
 * workers with the leader marked, every connector wherever it runs — and its actions reach the
 * leader (a connector created through the form, a pause); every task's records/s, also of tasks on
 * the other worker (GET /sluice/metrics, gathered by the leader).
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { Cluster, type ClusterWorker, clusterView, restWithRetry } from '../distributed/cluster.ts'
import { launchBrowser, screenshot } from '../helpers/browser.ts'
import { eventually } from '../helpers/rest.ts'
import { chromiumSkipReason, kafkaBootstrap, kafkaSkipReason } from '../helpers/services.ts'

const SOURCE = 'org.apache.kafka.connect.file.FileStreamSourceConnector'

describe('web console on a distributed cluster', { skip: kafkaSkipReason() || chromiumSkipReason() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-console-dist-'))
  let cluster: Cluster
  let browser: Browser
  let leader: ClusterWorker
  let follower: ClusterWorker
  const topics: string[] = []

  before(async () => {
    cluster = new Cluster({ dir, bootstrap: kafkaBootstrap() })
    await Promise.all([cluster.start(), cluster.start()])
    const views = await eventually(
      async () => {
        const all = await Promise.all(cluster.workers.map(clusterView))
        return all.every((v) => !v.rebalancing && v.generation > 0) && all.some((v) => v.leader)
          ? all
          : undefined
      },
      60_000,
      'a settled group',
    )
    leader = cluster.workers[views.findIndex((v) => v.leader)]!
    follower = cluster.workers.find((w) => w !== leader)!
    for (const i of [1, 2]) {
      const file = join(dir, `in-${i}.txt`)
      writeFileSync(file, `line ${i}\n`)
      const topic = `${cluster.groupId}-t${i}`
      topics.push(topic)
      const res = await restWithRetry(`${leader.url}/connectors`, 'POST', {
        name: `dist-${i}`,
        config: {
          'connector.class': SOURCE,
          file,
          topic,
          'topic.creation.default.partitions': '1',
          'topic.creation.default.replication.factor': '1',
        },
      })
      assert.equal(res.status, 201, JSON.stringify(res.body))
    }
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await cluster?.stopAll()
    await cluster?.deleteTopics([...topics, `${cluster.groupId}-t3`])
    rmSync(dir, { recursive: true, force: true })
  })

  it('shows every worker and connector from the follower, and its actions reach the leader', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${follower.url}/ui/`)
    try {
      for (const name of ['dist-1', 'dist-2']) {
        await page.locator(`tr[data-connector="${name}"] [data-state="RUNNING"]`).waitFor({ timeout: 90_000 })
      }
    } catch (error) {
      // Say what the cluster reported, so a slow or stuck rebalance can be told from a console fault.
      const statuses = await restWithRetry(`${follower.url}/connectors?expand=status`, 'GET', undefined, 5000)
      const views = await Promise.all(
        cluster.workers.map((w) => clusterView(w).catch((e: Error) => e.message)),
      )
      throw new Error(
        `${(error as Error).message}\nstatuses: ${JSON.stringify(statuses.body)}\nviews: ${JSON.stringify(views)}`,
      )
    }
    await page.locator('#worker-info', { hasText: /distributed, generation \d+/ }).waitFor()
    // The leader is marked, whichever worker the page is on.
    const leaderRow = page.locator('table.workers tbody tr', { hasText: leader.id })
    await leaderRow.locator('.badge.leader').waitFor()
    assert.match(
      (await page.locator('table.workers tbody tr', { hasText: follower.id }).textContent()) ?? '',
      /this page/,
    )
    await screenshot(page, '11-distributed-overview')

    // Create through the form on the follower: the request is forwarded to the leader.
    await page.click('#new-connector')
    await page.selectOption('#plugin', SOURCE)
    await page.locator('#field-topic').waitFor()
    const file = join(dir, 'in-3.txt')
    writeFileSync(file, 'line 3\n')
    await page.fill('#connector-name', 'dist-3')
    await page.fill('#field-file', file)
    await page.fill('#field-topic', `${cluster.groupId}-t3`)
    await page.locator('#validation-summary', { hasText: 'No problems found.' }).waitFor()
    await page.click('#submit')
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 90_000 })

    // Pause it from the follower's page; the leader's API sees it.
    await page.click('#action-pause')
    await page.locator('main[data-state="PAUSED"]').waitFor({ timeout: 90_000 })
    const status = await restWithRetry(`${leader.url}/connectors/dist-3/status`, 'GET')
    assert.equal((status.body as { connector: { state: string } }).connector.state, 'PAUSED')
    await page.close()
  })

  it('shows the rate of a task that runs on the other worker', async () => {
    // Both workers answer with every task of the cluster: the follower through the leader.
    for (const worker of [follower, leader]) {
      const tasks = await eventually(
        async () => {
          const res = await restWithRetry(`${worker.url}/sluice/metrics`, 'GET')
          const body = res.body as { tasks: { connector: string; task: number }[]; unreachable: unknown[] }
          const names = body.tasks.map((t) => `${t.connector}-${t.task}`)
          return res.status === 200 &&
            body.unreachable.length === 0 &&
            names.includes('dist-1-0') &&
            names.includes('dist-2-0')
            ? names
            : undefined
        },
        30_000,
        `every task's counters from ${worker.id}`,
      )
      assert.equal(new Set(tasks).size, tasks.length, 'each task once')
    }
    // The page is opened on the worker that does not run dist-1's task.
    const status = await restWithRetry(`${leader.url}/connectors/dist-1/status`, 'GET')
    const runsOn = (status.body as { tasks: { worker_id: string }[] }).tasks[0]!.worker_id
    const other = cluster.workers.find((w) => w.id !== runsOn)!
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${other.url}/ui/#/connectors/dist-1`)
    await page.locator('main[data-state="RUNNING"]').waitFor({ timeout: 60_000 })
    const file = join(dir, 'in-1.txt')
    let next = 0
    const feeder = setInterval(() => {
      appendFileSync(file, Array.from({ length: 20 }, () => `more ${next++}`).join('\n') + '\n')
    }, 200)
    try {
      // A positive rate (not "—" nor 0.0) in the task's row and in the connector's legend.
      await page.locator('td[data-task-rate="0"]', { hasText: /^(?!0\.0$)\d/ }).waitFor({ timeout: 60_000 })
      await page.locator('[data-rate="written"]', { hasText: /^(?!0\.0$)\d/ }).waitFor({ timeout: 60_000 })
    } finally {
      clearInterval(feeder)
    }
    assert.notEqual(runsOn, other.id)
    await screenshot(page, '12-distributed-task-rate')
    await page.close()
  })
})

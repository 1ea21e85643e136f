/**
 * Sluice's own read-only topic endpoints, for the web console's topic and dead-letter views (not
 * part of Kafka Connect's REST API; behind the same TLS and basic auth as the rest):
 *
 * - `GET /sluice/topics` — every topic of the worker's log with its partitions' first and end offsets;
 * - `GET /sluice/topics/{topic}/records?limit=20[&partition=n]` — the latest `limit` (1…100) records,
 *   oldest first, keys, values and headers previewed (UTF-8 text or base64, cut to 4 KiB each).
 *
 * Nothing here writes: no topic is created, no group joined, no offset committed.
 */

import { ConnectError } from '../api/errors.ts'
import type { Herder } from '../herder/herder.ts'
import { MAX_RECORDS } from '../runtime/topic-browser.ts'
import type { HttpApp } from './http-router.ts'

function integer(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined || value === '') return fallback
  if (!/^\d+$/.test(value)) {
    throw new ConnectError(
      'BAD_REQUEST',
      `Query parameter ${name} must be a non-negative integer, not "${value}"`,
    )
  }
  return Number(value)
}

export function registerTopicRoutes(app: HttpApp, herder: Herder): void {
  app.get('/sluice/topics', async () => herder.topics())

  app.get<{ Params: { topic: string }; Querystring: { limit?: string; partition?: string } }>(
    '/sluice/topics/:topic/records',
    async (request) => {
      const limit = integer(request.query.limit, 'limit', 20)!
      if (limit < 1 || limit > MAX_RECORDS) {
        throw new ConnectError(
          'BAD_REQUEST',
          `Query parameter limit must be from 1 to ${MAX_RECORDS}, not ${limit}`,
        )
      }
      return herder.topicRecords(request.params.topic, {
        limit,
        partition: integer(request.query.partition, 'partition'),
      })
    },
  )
}

/**
 * Drops a replication slot a benchmark made, once its walsender has let go of it (a stopped worker's
 * walsender lingers for a moment). Gives up quietly after `tries`; a slot already gone is fine.
 */
import type pg from 'pg'

export async function dropSlotWhenInactive(
  admin: pg.Client,
  slot: string,
  tries = 50,
  delayMs = 200,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const { rows } = await admin.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])
    if (rows.length === 0) return
    if (!rows[0].active) await admin.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
}

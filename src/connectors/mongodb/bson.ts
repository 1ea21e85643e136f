/**
 * The BSON classes the connectors build and recognise, taken from the same copy the driver uses.
 *
 * The `mongodb` driver costs ~30 MB at import, so it is imported only when a task opens a client
 * (client.ts); the BSON types alone are ~5 MB. But `bson` ships two builds — the driver (CommonJS)
 * loads `bson.cjs`, while an ES `import 'bson'` would load `bson.mjs` — and values of one build are
 * not instances of the other's classes. So this module loads `bson` with `require`, as the driver does.
 */
import { createRequire } from 'node:module'
import type * as Bson from 'bson'

const bson = createRequire(import.meta.url)('bson') as typeof Bson

export const BSON = bson.BSON
/** Types of the `BSON` namespace the connectors name. */
export declare namespace BSON {
  type Document = Bson.Document
  type Timestamp = Bson.Timestamp
}
export const Binary = bson.Binary
export type Binary = Bson.Binary
export const BSONRegExp = bson.BSONRegExp
export type BSONRegExp = Bson.BSONRegExp
export const BSONSymbol = bson.BSONSymbol
export type BSONSymbol = Bson.BSONSymbol
export const Code = bson.Code
export type Code = Bson.Code
export const Decimal128 = bson.Decimal128
export type Decimal128 = Bson.Decimal128
export const Double = bson.Double
export type Double = Bson.Double
export const Int32 = bson.Int32
export type Int32 = Bson.Int32
export const Long = bson.Long
export type Long = Bson.Long
export const MaxKey = bson.MaxKey
export type MaxKey = Bson.MaxKey
export const MinKey = bson.MinKey
export type MinKey = Bson.MinKey
export const ObjectId = bson.ObjectId
export type ObjectId = Bson.ObjectId
export const Timestamp = bson.Timestamp
export type Timestamp = Bson.Timestamp
export const UUID = bson.UUID
export type UUID = Bson.UUID

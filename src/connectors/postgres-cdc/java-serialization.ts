/**
 * Java object serialization (`ObjectOutputStream`, stream protocol version 5) of the `Object[]` keys
 * Debezium keeps in incremental-snapshot offsets (`incremental_snapshot_primary_key`,
 * `incremental_snapshot_maximum_key`: hex of the serialized array, `HexConverter`, lower case).
 *
 * Only the classes Debezium's PostgreSQL connector puts in a key are written and understood — what
 * pgjdbc's `getObject` returns for the key column, as `PostgresConnection.getColumnValue` passes it on:
 * `int2`/`int4` → Integer, `int8`/`oid` → Long, `numeric` → BigDecimal, `bool` → Boolean,
 * `float4`/`float8` → Float/Double, `uuid` → UUID, `date` → java.sql.Date, text types → String, and
 * `time`/`timetz`/`timestamp`/`timestamptz`/`bit` → String (read with `getString`). Short and BigInteger
 * are understood too. Anything else is refused with the class name.
 *
 * The bytes written are the bytes Java writes, including its back-references for the boxed values
 * Java caches (`Integer.valueOf(-128..127)`, `Boolean.TRUE`), so a key round-trips byte for byte.
 * `java.sql.Date` holds the milliseconds of local midnight of the JVM that wrote it: it is written as
 * UTC midnight and read as the nearest UTC midnight (right for JVM time zones within ±12 h).
 *
 * Over 600 lines because the writer and the reader of one binary grammar belong together (each class's
 * descriptor is written and read from the same table).
 */

export type JavaType =
  | 'Integer'
  | 'Long'
  | 'Short'
  | 'Boolean'
  | 'String'
  | 'Double'
  | 'Float'
  | 'BigDecimal'
  | 'BigInteger'
  | 'UUID'
  | 'Date'

/** One key element: its Java class and its value as PostgreSQL text (what a query parameter takes). */
export interface JavaValue {
  type: JavaType
  text: string
}

const TC_NULL = 0x70
const TC_REFERENCE = 0x71
const TC_CLASSDESC = 0x72
const TC_OBJECT = 0x73
const TC_STRING = 0x74
const TC_ARRAY = 0x75
const TC_BLOCKDATA = 0x77
const TC_ENDBLOCKDATA = 0x78
const TC_BLOCKDATALONG = 0x7a
const TC_LONGSTRING = 0x7c
const BASE_HANDLE = 0x7e0000
const SC_WRITE_METHOD = 0x01
const SC_SERIALIZABLE = 0x02

interface FieldDesc {
  code: string
  name: string
  /** Type signature of object and array fields (`Ljava/math/BigInteger;`, `[B`). */
  signature?: string
}

interface ClassDesc {
  name: string
  suid: bigint
  flags: number
  fields: FieldDesc[]
  superclass: ClassDesc | null
}

const desc = (
  name: string,
  suid: bigint,
  fields: FieldDesc[] = [],
  superclass: ClassDesc | null = null,
  flags = SC_SERIALIZABLE,
): ClassDesc => ({ name, suid, flags, fields, superclass })

const NUMBER = desc('java.lang.Number', 0x86ac951d0b94e08bn)
const value = (code: string): FieldDesc[] => [{ code, name: 'value' }]
const CLASSES = {
  objectArray: desc('[Ljava.lang.Object;', 0x90ce589f1073296cn),
  byteArray: desc('[B', 0xacf317f8060854e0n),
  Integer: desc('java.lang.Integer', 0x12e2a0a4f7818738n, value('I'), NUMBER),
  Long: desc('java.lang.Long', 0x3b8be490cc8f23dfn, value('J'), NUMBER),
  Short: desc('java.lang.Short', 0x684d37133460da52n, value('S'), NUMBER),
  Double: desc('java.lang.Double', 0x80b3c24a296bfb04n, value('D'), NUMBER),
  Float: desc('java.lang.Float', 0xdaedc9a2db3cf0ecn, value('F'), NUMBER),
  Boolean: desc('java.lang.Boolean', 0xcd207280d59cfaeen, value('Z')),
  BigInteger: desc(
    'java.math.BigInteger',
    0x8cfc9f1fa93bfb1dn,
    [
      { code: 'I', name: 'bitCount' },
      { code: 'I', name: 'bitLength' },
      { code: 'I', name: 'firstNonzeroByteNum' },
      { code: 'I', name: 'lowestSetBit' },
      { code: 'I', name: 'signum' },
      { code: '[', name: 'magnitude', signature: '[B' },
    ],
    NUMBER,
    SC_SERIALIZABLE | SC_WRITE_METHOD,
  ),
  BigDecimal: desc(
    'java.math.BigDecimal',
    0x54c71557f981284fn,
    [
      { code: 'I', name: 'scale' },
      { code: 'L', name: 'intVal', signature: 'Ljava/math/BigInteger;' },
    ],
    NUMBER,
    SC_SERIALIZABLE | SC_WRITE_METHOD,
  ),
  UUID: desc('java.util.UUID', 0xbc9903f7986d852fn, [
    { code: 'J', name: 'leastSigBits' },
    { code: 'J', name: 'mostSigBits' },
  ]),
  Date: desc(
    'java.sql.Date',
    0x14fa46683f356697n,
    [],
    desc('java.util.Date', 0x686a81014b597419n, [], null, SC_SERIALIZABLE | SC_WRITE_METHOD),
  ),
}

const MS_PER_DAY = 86_400_000
/** Days from 1970-01-01 to 1582-10-15, where Java's calendar switches from Julian to Gregorian. */
const GREGORIAN_CUTOVER_DAY = -141427
/** Julian day number of 1970-01-01. */
const EPOCH_JDN = 2440588

/**
 * java.sql.Date millis of a date as Java computes them (`java.sql.Date.valueOf` in a UTC JVM): dates
 * before 1582-10-15 are taken as Julian-calendar dates, as pgjdbc's conversion does.
 */
function dateMillis(year: number, month: number, day: number): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  let days = Math.round(d.getTime() / MS_PER_DAY)
  if (days < GREGORIAN_CUTOVER_DAY) {
    const a = Math.floor((14 - month) / 12)
    const y = year + 4800 - a
    const m = month + 12 * a - 3
    days = day + Math.floor((153 * m + 2) / 5) + 365 * y + Math.floor(y / 4) - 32083 - EPOCH_JDN
  }
  return days * MS_PER_DAY
}

/** Inverse of {@link dateMillis}, from days since 1970-01-01. */
function dateText(days: number): string {
  if (days >= GREGORIAN_CUTOVER_DAY) return new Date(days * MS_PER_DAY).toISOString().slice(0, 10)
  const c = days + EPOCH_JDN + 32082
  const d = Math.floor((4 * c + 3) / 1461)
  const e = c - Math.floor((1461 * d) / 4)
  const m = Math.floor((5 * e + 2) / 153)
  const day = e - Math.floor((153 * m + 2) / 5) + 1
  const month = m + 3 - 12 * Math.floor(m / 10)
  const year = d - 4800 + Math.floor(m / 10)
  const pad = (n: number, w: number): string => String(n).padStart(w, '0')
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`
}

// ---- writing ----

class Writer {
  readonly #out: number[] = []
  #next = BASE_HANDLE
  readonly #classes = new Map<string, number>()
  readonly #strings = new Map<string, number>()
  /** Java's shared instances (Integer/Short/Long caches, Boolean.TRUE/FALSE): written once, then referenced. */
  readonly #cached = new Map<string, number>()

  bytes(): Buffer {
    return Buffer.from(this.#out)
  }

  byte(b: number): void {
    this.#out.push(b & 0xff)
  }

  short(n: number): void {
    this.byte(n >> 8)
    this.byte(n)
  }

  int(n: number): void {
    const b = Buffer.alloc(4)
    b.writeInt32BE(n)
    this.#out.push(...b)
  }

  long(n: bigint): void {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(BigInt.asIntN(64, n))
    this.#out.push(...b)
  }

  raw(bytes: Uint8Array): void {
    for (const b of bytes) this.#out.push(b)
  }

  reference(handle: number): void {
    this.byte(TC_REFERENCE)
    this.int(handle)
  }

  utf(text: string): void {
    const bytes = modifiedUtf8(text)
    if (bytes.length > 0xffff) throw new Error('class or field name too long for Java serialization')
    this.short(bytes.length)
    this.raw(bytes)
  }

  string(text: string): void {
    const seen = this.#strings.get(text)
    if (seen !== undefined) {
      this.reference(seen)
      return
    }
    const bytes = modifiedUtf8(text)
    if (bytes.length > 0xffff) {
      this.byte(TC_LONGSTRING)
      this.#strings.set(text, this.#next++)
      this.long(BigInt(bytes.length))
    } else {
      this.byte(TC_STRING)
      this.#strings.set(text, this.#next++)
      this.short(bytes.length)
    }
    this.raw(bytes)
  }

  classDesc(d: ClassDesc | null): void {
    if (!d) {
      this.byte(TC_NULL)
      return
    }
    const seen = this.#classes.get(d.name)
    if (seen !== undefined) {
      this.reference(seen)
      return
    }
    this.byte(TC_CLASSDESC)
    this.utf(d.name)
    this.long(d.suid)
    this.#classes.set(d.name, this.#next++)
    this.byte(d.flags)
    this.short(d.fields.length)
    for (const f of d.fields) {
      this.byte(f.code.charCodeAt(0))
      this.utf(f.name)
      if (f.signature) this.string(f.signature)
    }
    this.byte(TC_ENDBLOCKDATA)
    this.classDesc(d.superclass)
  }

  /** Starts an ordinary object; returns false when a cached instance was referenced instead. */
  object(d: ClassDesc, cacheKey: string | null = null): boolean {
    if (cacheKey !== null) {
      const seen = this.#cached.get(cacheKey)
      if (seen !== undefined) {
        this.reference(seen)
        return false
      }
    }
    this.byte(TC_OBJECT)
    this.classDesc(d)
    const handle = this.#next++
    if (cacheKey !== null) this.#cached.set(cacheKey, handle)
    return true
  }

  byteArray(bytes: Uint8Array): void {
    this.byte(TC_ARRAY)
    this.classDesc(CLASSES.byteArray)
    this.#next++
    this.int(bytes.length)
    this.raw(bytes)
  }

  objectArray(values: (JavaValue | null)[]): void {
    this.byte(TC_ARRAY)
    this.classDesc(CLASSES.objectArray)
    this.#next++
    this.int(values.length)
    for (const v of values) this.value(v)
  }

  value(v: JavaValue | null): void {
    if (v === null) {
      this.byte(TC_NULL)
      return
    }
    const { type, text } = v
    switch (type) {
      case 'String':
        // Distinct String instances are written in full each time (no shared handle).
        this.freshString(text)
        return
      case 'Integer': {
        const n = integerText(text, type, -(2 ** 31), 2 ** 31 - 1)
        if (this.object(CLASSES.Integer, n >= -128 && n <= 127 ? `I${n}` : null)) this.int(n)
        return
      }
      case 'Short': {
        const n = integerText(text, type, -(2 ** 15), 2 ** 15 - 1)
        if (this.object(CLASSES.Short, n >= -128 && n <= 127 ? `S${n}` : null)) this.short(n)
        return
      }
      case 'Long': {
        const n = bigIntText(text, type)
        if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new Error(`'${text}' is out of range for a Java Long`)
        if (this.object(CLASSES.Long, n >= -128n && n <= 127n ? `J${n}` : null)) this.long(n)
        return
      }
      case 'Boolean': {
        const b = /^(t|true|y|yes|on|1)$/i.test(text)
        if (this.object(CLASSES.Boolean, `Z${b}`)) this.byte(b ? 1 : 0)
        return
      }
      case 'Double': {
        this.object(CLASSES.Double)
        const b = Buffer.alloc(8)
        b.writeDoubleBE(Number(text))
        this.raw(b)
        return
      }
      case 'Float': {
        this.object(CLASSES.Float)
        const b = Buffer.alloc(4)
        b.writeFloatBE(Number(text))
        this.raw(b)
        return
      }
      case 'BigInteger':
        this.object(CLASSES.BigInteger)
        this.bigIntegerData(bigIntText(text, type))
        return
      case 'BigDecimal': {
        const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim())
        if (!m || (m[2] === '' && !m[3]))
          throw new Error(`'${text}' is not a decimal Java's BigDecimal can hold`)
        const fraction = m[3] ?? ''
        const unscaled = BigInt(`${m[1]}${m[2]}${fraction}` || '0')
        this.object(CLASSES.BigDecimal)
        this.int(fraction.length)
        this.object(CLASSES.BigInteger)
        this.bigIntegerData(unscaled)
        this.byte(TC_ENDBLOCKDATA)
        return
      }
      case 'UUID': {
        const hex = text.replaceAll('-', '')
        if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`'${text}' is not a UUID`)
        this.object(CLASSES.UUID)
        this.raw(Buffer.from(hex.slice(16), 'hex'))
        this.raw(Buffer.from(hex.slice(0, 16), 'hex'))
        return
      }
      case 'Date': {
        const m = /^(\d{4,})-(\d{2})-(\d{2})$/.exec(text)
        if (!m) throw new Error(`'${text}' is not a date (YYYY-MM-DD) Java's java.sql.Date can hold`)
        this.object(CLASSES.Date)
        this.byte(TC_BLOCKDATA)
        this.byte(8)
        this.long(BigInt(dateMillis(Number(m[1]), Number(m[2]), Number(m[3]))))
        this.byte(TC_ENDBLOCKDATA)
        return
      }
    }
  }

  freshString(text: string): void {
    const bytes = modifiedUtf8(text)
    if (bytes.length > 0xffff) {
      this.byte(TC_LONGSTRING)
      this.#next++
      this.long(BigInt(bytes.length))
    } else {
      this.byte(TC_STRING)
      this.#next++
      this.short(bytes.length)
    }
    this.raw(bytes)
  }

  /** BigInteger's serial form: the deprecated fields as Java writes them, signum, big-endian magnitude. */
  bigIntegerData(n: bigint): void {
    this.int(-1) // bitCount
    this.int(-1) // bitLength
    this.int(-2) // firstNonzeroByteNum
    this.int(-2) // lowestSetBit
    this.int(n === 0n ? 0 : n < 0n ? -1 : 1)
    const magnitude = n < 0n ? -n : n
    let hex = magnitude === 0n ? '' : magnitude.toString(16)
    if (hex.length % 2) hex = `0${hex}`
    this.byteArray(Buffer.from(hex, 'hex'))
    this.byte(TC_ENDBLOCKDATA)
  }
}

function integerText(text: string, type: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new Error(`'${text}' is not an integer for a Java ${type}`)
  const n = Number(text)
  if (n < min || n > max) throw new Error(`'${text}' is out of range for a Java ${type}`)
  return n
}

function bigIntText(text: string, type: string): bigint {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new Error(`'${text}' is not an integer for a Java ${type}`)
  return BigInt(text.trim())
}

/** Java's modified UTF-8: NUL as C0 80, characters beyond the BMP as two 3-byte surrogates. */
function modifiedUtf8(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 1 && c <= 0x7f) out.push(c)
    else if (c <= 0x7ff) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f))
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f))
  }
  return Uint8Array.from(out)
}

function decodeModifiedUtf8(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]
    if (b < 0x80) {
      s += String.fromCharCode(b)
      i++
    } else if ((b & 0xe0) === 0xc0) {
      s += String.fromCharCode(((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f))
      i += 2
    } else {
      s += String.fromCharCode(((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f))
      i += 3
    }
  }
  return s
}

/** Hex (lower case, as Debezium's HexConverter) of the serialized `Object[]`, or of `null`. */
export function serializeKey(values: (JavaValue | null)[] | null): string {
  const w = new Writer()
  w.short(0xaced)
  w.short(5)
  if (values === null) w.byte(TC_NULL)
  else w.objectArray(values)
  return w.bytes().toString('hex')
}

// ---- reading ----

interface JavaObject {
  className: string
  fields: Map<string, unknown>
  /** Data written by the classes' writeObject methods (block data), in order. */
  blocks: Buffer[]
}

class Reader {
  readonly #b: Buffer
  #pos = 0
  readonly #handles: unknown[] = []

  constructor(bytes: Buffer) {
    this.#b = bytes
  }

  get done(): boolean {
    return this.#pos >= this.#b.length
  }

  #need(n: number): void {
    if (this.#pos + n > this.#b.length) throw new Error('the serialized data ends early')
  }

  u8(): number {
    this.#need(1)
    return this.#b[this.#pos++]
  }

  u16(): number {
    this.#need(2)
    const v = this.#b.readUInt16BE(this.#pos)
    this.#pos += 2
    return v
  }

  i32(): number {
    this.#need(4)
    const v = this.#b.readInt32BE(this.#pos)
    this.#pos += 4
    return v
  }

  i64(): bigint {
    this.#need(8)
    const v = this.#b.readBigInt64BE(this.#pos)
    this.#pos += 8
    return v
  }

  take(n: number): Buffer {
    this.#need(n)
    const v = this.#b.subarray(this.#pos, this.#pos + n)
    this.#pos += n
    return v
  }

  #assign(v: unknown): number {
    this.#handles.push(v)
    return this.#handles.length - 1
  }

  #handle(): unknown {
    const index = this.i32() - BASE_HANDLE
    if (index < 0 || index >= this.#handles.length)
      throw new Error('the serialized data has a bad back-reference')
    return this.#handles[index]
  }

  utf(): string {
    return decodeModifiedUtf8(this.take(this.u16()))
  }

  classDesc(): ClassDesc | null {
    const tc = this.u8()
    if (tc === TC_NULL) return null
    if (tc === TC_REFERENCE) return this.#handle() as ClassDesc
    if (tc !== TC_CLASSDESC) throw new Error(`unsupported class descriptor (type code 0x${tc.toString(16)})`)
    const name = this.utf()
    const suid = this.i64()
    const d: ClassDesc = { name, suid, flags: 0, fields: [], superclass: null }
    this.#assign(d)
    d.flags = this.u8()
    const count = this.u16()
    for (let i = 0; i < count; i++) {
      const code = String.fromCharCode(this.u8())
      const fieldName = this.utf()
      const f: FieldDesc = { code, name: fieldName }
      if (code === 'L' || code === '[') f.signature = this.content() as string
      d.fields.push(f)
    }
    this.annotations()
    d.superclass = this.classDesc()
    return d
  }

  /** Block data and objects up to TC_ENDBLOCKDATA. */
  annotations(): Buffer[] {
    const blocks: Buffer[] = []
    for (;;) {
      const tc = this.#b[this.#pos]
      if (tc === TC_ENDBLOCKDATA) {
        this.#pos++
        return blocks
      }
      if (tc === TC_BLOCKDATA) {
        this.#pos++
        blocks.push(this.take(this.u8()))
      } else if (tc === TC_BLOCKDATALONG) {
        this.#pos++
        blocks.push(this.take(this.i32()))
      } else this.content()
    }
  }

  primitive(code: string): unknown {
    switch (code) {
      case 'B':
        return this.take(1).readInt8(0)
      case 'C':
        return String.fromCharCode(this.u16())
      case 'D':
        return this.take(8).readDoubleBE(0)
      case 'F':
        return this.take(4).readFloatBE(0)
      case 'I':
        return this.i32()
      case 'J':
        return this.i64()
      case 'S':
        return this.take(2).readInt16BE(0)
      case 'Z':
        return this.u8() !== 0
      default:
        return this.content()
    }
  }

  content(): unknown {
    const tc = this.u8()
    switch (tc) {
      case TC_NULL:
        return null
      case TC_REFERENCE:
        return this.#handle()
      case TC_STRING: {
        const s = this.utf()
        this.#assign(s)
        return s
      }
      case TC_LONGSTRING: {
        const s = decodeModifiedUtf8(this.take(Number(this.i64())))
        this.#assign(s)
        return s
      }
      case TC_ARRAY: {
        const d = this.classDesc()!
        const items: unknown[] = []
        this.#assign(d.name === '[B' ? null : items)
        const length = this.i32()
        if (d.name === '[B') {
          const bytes = Buffer.from(this.take(length))
          this.#handles[this.#handles.length - 1] = bytes
          return bytes
        }
        for (let i = 0; i < length; i++) items.push(this.primitive(d.name.charAt(1)))
        return items
      }
      case TC_OBJECT: {
        const d = this.classDesc()!
        const o: JavaObject = { className: d.name, fields: new Map(), blocks: [] }
        this.#assign(o)
        const chain: ClassDesc[] = []
        for (let c: ClassDesc | null = d; c; c = c.superclass) chain.unshift(c)
        for (const c of chain) {
          if (!(c.flags & SC_SERIALIZABLE)) throw new Error(`class ${c.name} is not in a form Sluice reads`)
          for (const f of c.fields) o.fields.set(f.name, this.primitive(f.code))
          if (c.flags & SC_WRITE_METHOD) o.blocks.push(...this.annotations())
        }
        return o
      }
      default:
        throw new Error(`unsupported serialized content (type code 0x${tc.toString(16)})`)
    }
  }
}

function keyValue(element: unknown): JavaValue | null {
  if (element === null) return null
  if (typeof element === 'string') return { type: 'String', text: element }
  const o = element as JavaObject
  if (!o || typeof o !== 'object' || !('className' in o)) {
    throw new Error('the key holds a nested array, which Sluice does not read')
  }
  const v = o.fields.get('value')
  switch (o.className) {
    case 'java.lang.Integer':
      return { type: 'Integer', text: String(v) }
    case 'java.lang.Long':
      return { type: 'Long', text: String(v) }
    case 'java.lang.Short':
      return { type: 'Short', text: String(v) }
    case 'java.lang.Boolean':
      return { type: 'Boolean', text: v ? 'true' : 'false' }
    case 'java.lang.Double':
      return { type: 'Double', text: String(v) }
    case 'java.lang.Float':
      return { type: 'Float', text: String(v) }
    case 'java.math.BigInteger':
      return { type: 'BigInteger', text: bigIntegerOf(o).toString() }
    case 'java.math.BigDecimal': {
      const unscaled = bigIntegerOf(o.fields.get('intVal') as JavaObject)
      const scale = o.fields.get('scale') as number
      return { type: 'BigDecimal', text: decimalText(unscaled, scale) }
    }
    case 'java.util.UUID': {
      const hex = (n: unknown): string =>
        BigInt.asUintN(64, n as bigint)
          .toString(16)
          .padStart(16, '0')
      const h = hex(o.fields.get('mostSigBits')) + hex(o.fields.get('leastSigBits'))
      return {
        type: 'UUID',
        text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
      }
    }
    case 'java.sql.Date': {
      const block = Buffer.concat(o.blocks)
      if (block.length < 8) throw new Error('a java.sql.Date without its time')
      return { type: 'Date', text: dateText(Math.round(Number(block.readBigInt64BE(0)) / MS_PER_DAY)) }
    }
    default:
      throw new Error(`the key holds a ${o.className}, a class Sluice does not read`)
  }
}

function bigIntegerOf(o: JavaObject): bigint {
  const signum = o.fields.get('signum') as number
  const magnitude = o.fields.get('magnitude') as Buffer
  const n = magnitude.length === 0 ? 0n : BigInt(`0x${magnitude.toString('hex')}`)
  return signum < 0 ? -n : n
}

function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  let digits = (negative ? -unscaled : unscaled).toString()
  let text: string
  if (scale <= 0) text = digits + '0'.repeat(-scale)
  else {
    digits = digits.padStart(scale + 1, '0')
    text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  }
  return negative ? `-${text}` : text
}

/** Reads Debezium's hex of a serialized `Object[]` (or of `null`). Throws on anything else. */
export function deserializeKey(hex: string): (JavaValue | null)[] | null {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex')
  const r = new Reader(Buffer.from(hex, 'hex'))
  if (r.u16() !== 0xaced || r.u16() !== 5) throw new Error('not a Java serialization stream')
  const content = r.content()
  if (!r.done) throw new Error('data after the serialized key')
  if (content === null) return null
  if (!Array.isArray(content)) throw new Error('the serialized value is not an Object[]')
  return content.map(keyValue)
}

/**
 * The Java class Debezium's PostgreSQL connector puts in a key for a column of this PostgreSQL type
 * (pg_type.typname, domains resolved), or null when it is one Sluice does not write.
 */
export function javaTypeOf(pgTypeName: string): JavaType | null {
  switch (pgTypeName) {
    case 'int2':
    case 'int4':
      return 'Integer'
    case 'int8':
    case 'oid':
      return 'Long'
    case 'numeric':
      return 'BigDecimal'
    case 'bool':
      return 'Boolean'
    case 'float4':
      return 'Float'
    case 'float8':
      return 'Double'
    case 'uuid':
      return 'UUID'
    case 'date':
      return 'Date'
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'char':
    case 'name':
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
    case 'bit':
      return 'String'
    default:
      return null
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Fifo } from '../../../src/connectors/postgres-cdc/fifo.ts'

describe('Fifo', () => {
  it('gives items back in order through pushes and shifts interleaved, across its cuts', () => {
    const fifo = new Fifo<number>()
    const model: number[] = []
    let next = 0
    let seed = 7
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let step = 0; step < 200_000; step++) {
      if (random() < 0.55) {
        fifo.push(next)
        model.push(next++)
      } else {
        assert.equal(fifo.shift(), model.shift())
      }
      assert.equal(fifo.length, model.length)
    }
    while (model.length > 0) assert.equal(fifo.shift(), model.shift())
    assert.equal(fifo.shift(), undefined)
    assert.equal(fifo.length, 0)
  })

  it('clears', () => {
    const fifo = new Fifo<string>()
    fifo.push('a')
    fifo.push('b')
    fifo.clear()
    assert.equal(fifo.length, 0)
    assert.equal(fifo.shift(), undefined)
    fifo.push('c')
    assert.equal(fifo.shift(), 'c')
  })

  it('takes from a long queue in time that does not grow with its length', () => {
    // Array.prototype.shift moves every element once the array is too large to trim in place.
    const perItem = (n: number) => {
      const fifo = new Fifo<{ i: number }>()
      for (let i = 0; i < n; i++) fifo.push({ i })
      const started = process.hrtime.bigint()
      let sum = 0
      for (let i = 0; i < n; i++) sum += fifo.shift()!.i
      assert.equal(sum, (n * (n - 1)) / 2)
      return Number(process.hrtime.bigint() - started) / n
    }
    perItem(20_000) // warm up
    const small = Math.min(perItem(20_000), perItem(20_000))
    const large = Math.min(perItem(320_000), perItem(320_000))
    // A quadratic queue would take ~16× as long per item at 16× the length.
    assert.ok(
      large < small * 4 + 200,
      `${large.toFixed(0)} ns per item at 320k vs ${small.toFixed(0)} at 20k`,
    )
  })
})

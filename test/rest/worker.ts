/** Moved to test/helpers/worker.ts; kept for the suites that still import it from here. */
export { startTestWorker, type TestWorker } from '../helpers/worker.ts'

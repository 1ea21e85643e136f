/** One line for a table: an error's first line and, when it quotes a worker log, that log's first error line. */
export function errorSummary(error: string): string {
  const [first, ...rest] = error.split('\n')
  const cause = rest.find((line) => /\b(Error|ERROR|Exception)\b/.test(line))
  return cause === undefined ? first : `${first} ${cause.trim()}`
}

/** The prose of docs/reference/filestream-*.md; scripts/gen-connector-docs.ts adds the keys from the ConfigDef. */
export const FILE_SOURCE_DOC = `
# FileStream source connector

{{className}} (also \`FileStreamSource\`): Kafka's own example source, with its keys, offsets and
behaviour. Each line of \`file\` (UTF-8) becomes a record with a STRING value and no key on \`topic\`;
lines appended later are picked up. Without \`file\` it reads standard input.

Offsets: partition \`{"filename": "<file>"}\`, offset \`{"position": <byte offset after the line>}\` — the
same maps Kafka Connect stores, so a file connector moved from Kafka Connect resumes where it stopped.
After a crash, lines read but not yet committed are read again (at least once).

\`\`\`properties
name=local-file-source
connector.class=FileStreamSource
file=/var/log/app/events.log
topic=connect-test
\`\`\`

## Settings

{{config}}
`

export const FILE_SINK_DOC = `
# FileStream sink connector

{{className}} (also \`FileStreamSink\`): Kafka's own example sink. It appends each record's value, as
text, one line per record, to \`file\` (standard output without it), and flushes before the consumer
offsets are committed. Topics come from the framework's \`topics\` or \`topics.regex\`.

\`\`\`properties
name=local-file-sink
connector.class=FileStreamSink
file=/tmp/out.txt
topics=connect-test
\`\`\`

## Settings

{{config}}
`

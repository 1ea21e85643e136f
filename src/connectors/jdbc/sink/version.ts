export const JDBC_SINK_VERSION = '0.1.0'

export const JDBC_SOURCE_VERSION = '0.1.0'

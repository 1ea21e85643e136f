/** Reported by `GET /connector-plugins`. */
export const S3_SINK_VERSION = '0.1.0'

/** The version `GET /connector-plugins` shows: the official connector line these connectors follow. */
export const MONGODB_CONNECTOR_VERSION = '2.0.1-sluice'

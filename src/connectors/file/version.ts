export const FILE_CONNECTOR_VERSION = '0.1.0'

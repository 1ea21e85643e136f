export const POSTGRES_CDC_VERSION = '0.1.0'

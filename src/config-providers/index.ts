/**
 * The config providers that ship with Sluice, under Kafka's and Strimzi's class names, so a Kafka
 * Connect worker file's `config.providers.<name>.class` works unchanged.
 */
import type { PluginDescriptor } from '../api/plugin.ts'
import { VERSION } from '../version.ts'
import { DirectoryConfigProvider } from './directory-config-provider.ts'
import { EnvVarConfigProvider } from './env-var-config-provider.ts'
import { FileConfigProvider } from './file-config-provider.ts'
import {
  KubernetesConfigMapConfigProvider,
  KubernetesSecretConfigProvider,
} from './kubernetes-config-providers.ts'

const KAFKA = 'org.apache.kafka.common.config.provider.'

export const plugins: PluginDescriptor[] = [
  {
    className: `${KAFKA}FileConfigProvider`,
    type: 'config_provider',
    version: VERSION,
    create: () => new FileConfigProvider(),
  },
  {
    className: `${KAFKA}DirectoryConfigProvider`,
    type: 'config_provider',
    version: VERSION,
    create: () => new DirectoryConfigProvider(),
  },
  {
    className: `${KAFKA}EnvVarConfigProvider`,
    type: 'config_provider',
    version: VERSION,
    create: () => new EnvVarConfigProvider(),
  },
  {
    className: 'io.strimzi.kafka.KubernetesSecretConfigProvider',
    type: 'config_provider',
    version: VERSION,
    create: () => new KubernetesSecretConfigProvider(),
  },
  {
    className: 'io.strimzi.kafka.KubernetesConfigMapConfigProvider',
    type: 'config_provider',
    version: VERSION,
    create: () => new KubernetesConfigMapConfigProvider(),
  },
]

/** Validators Kafka's transforms share (`org.apache.kafka.connect.transforms.util`). */
import { type Validator, validator } from '../api/config-def.ts'
import { regexProblem } from '../api/java-regex.ts'

/** Kafka's `NonEmptyListValidator`. */
export const nonEmptyList: Validator = validator('non-empty list', (value) =>
  value === null || (value as string[]).length === 0 ? 'Empty list' : undefined,
)

/** Kafka's `RegexValidator`: the value must compile (here: as a Java regex JavaScript can run). */
export const validRegex: Validator = validator('valid regex', (value) => regexProblem(value))

/**
 * The enum fields of the built-in kinds (generated from k8s.io/api's `+enum` types by
 * scripts/gen-enums.mjs → src/api/generated/enums.json), as kube-apiserver's OpenAPI
 * publishes them: an `enum` list on the property and "Possible enum values:" at the
 * end of its description. `kubectl explain` prints both (`enum: Always, Never, …`).
 */
import { readFileSync } from 'node:fs';

interface EnumFile {
  source: string;
  /** "core/v1.DNSPolicy" → its values (sorted) and their description lines (sorted). */
  types: Record<string, { values: string[]; lines: string[] }>;
  /** Definition name → property → enum type key. */
  fields: Record<string, Record<string, string>>;
}

/** An enum a property takes its values from. */
export interface FieldEnum {
  readonly values: readonly string[];
  /** ` - `"Value"` what it means`, one per value. */
  readonly lines: readonly string[];
}

/** Beside the sources; from the compiled module in dist/src/api it is three levels up (tsc does not copy JSON). */
const LOCATIONS = ['./generated/enums.json', '../../../src/api/generated/enums.json'];

let loaded: EnumFile | undefined;

function load(): EnumFile {
  if (loaded) return loaded;
  for (const location of LOCATIONS) {
    try {
      loaded = JSON.parse(readFileSync(new URL(location, import.meta.url), 'utf8')) as EnumFile;
      return loaded;
    } catch {
      // try the next location
    }
  }
  throw new Error('src/api/generated/enums.json not found; run node scripts/gen-enums.mjs');
}

/** The enum of `definition`.`property` (e.g. "io.k8s.api.core.v1.PodSpec", "dnsPolicy"), if it is one. */
export function fieldEnum(definition: string, property: string): FieldEnum | undefined {
  const file = load();
  const key = file.fields[definition]?.[property];
  return key ? file.types[key] : undefined;
}

/**
 * A description with the enum's paragraph appended, as openapi-gen writes it (the
 * value lines are comment lines of their own, trailing spaces trimmed).
 */
export function describeEnum(description: string | undefined, fieldEnum: FieldEnum): string {
  const paragraph = ['Possible enum values:', ...fieldEnum.lines.map((line) => line.trimEnd())].join('\n');
  return description ? `${description}\n\n${paragraph}` : paragraph;
}

/**
 * An OpenAPI schema of `definition` with its enum properties completed (`enum` and the
 * description paragraph). Returns the same object when nothing applies.
 */
export function withEnums<T extends Record<string, unknown>>(definition: string, schema: T): T {
  const file = load();
  const fields = file.fields[definition];
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!fields || !properties) return schema;
  const updated = { ...properties };
  for (const [property, key] of Object.entries(fields)) {
    const node = properties[property];
    const found = file.types[key];
    if (!node || !found || node.type !== 'string') continue;
    const next: Record<string, unknown> = { ...node, description: describeEnum(node.description as string | undefined, found), enum: [...found.values] };
    updated[property] = Object.fromEntries(Object.keys(next).sort().map((k) => [k, next[k]]));
  }
  return { ...schema, properties: updated };
}

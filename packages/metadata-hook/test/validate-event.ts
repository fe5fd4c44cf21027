/**
 * Validates events against the official OpenLineage JSON Schemas (spec 2-0-2 and its facets) kept in
 * `../shared/data/openlineage-spec/` beside the repository (or `$SLUICE_OPENLINEAGE_SPEC_DIR`).
 *
 * The validator is Ajv (JSON Schema 2020-12) with ajv-formats (`uri`, `uuid`, `date-time`): only the
 * two imports below depend on it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Validate = ((data: unknown) => boolean) & { errors?: unknown };

const Ajv2020 = (Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: unknown) => void;

/** Where the official schemas are. */
export const SPEC_DIR =
  process.env.SLUICE_OPENLINEAGE_SPEC_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/openlineage-spec');

interface Compiled {
  core: Validate;
  facets: Map<string, { key: string; validate: Validate }>;
}

let compiled: Compiled | undefined;

function compile(): Compiled {
  if (compiled) return compiled;
  // biome-ignore lint/suspicious/noExplicitAny: the Ajv class is loaded through a CJS/ESM interop shim.
  const ajv = new (Ajv2020 as any)({ strict: false, allErrors: true });
  addFormats(ajv);
  const core = JSON.parse(readFileSync(path.join(SPEC_DIR, 'OpenLineage.json'), 'utf8'));
  ajv.addSchema(core);
  const facets = new Map<string, { key: string; validate: Validate }>();
  for (const file of readdirSync(path.join(SPEC_DIR, 'facets'))) {
    if (!file.endsWith('.json')) continue;
    const schema = JSON.parse(readFileSync(path.join(SPEC_DIR, 'facets', file), 'utf8'));
    ajv.addSchema(schema);
    const key = Object.keys(schema.properties ?? {})[0] ?? '';
    facets.set(schema.$id, { key, validate: ajv.getSchema(schema.$id) as Validate });
  }
  const coreValidate = ajv.getSchema(`${core.$id}#/$defs/RunEvent`) as Validate;
  compiled = { core: coreValidate, facets };
  return compiled;
}

/** The result of a validation: ok, or the list of problems found. */
export interface ValidationResult {
  ok: boolean;
  errors: string[];
}

/**
 * Validates a RunEvent against `OpenLineage.json#/$defs/RunEvent`, and each facet (found by its
 * `_schemaURL`) against its own schema under the key that schema declares.
 */
export function validateEvent(event: unknown): ValidationResult {
  const { core, facets } = compile();
  const errors: string[] = [];
  if (!core(event)) errors.push(`RunEvent: ${JSON.stringify(core.errors)}`);
  const e = event as {
    run?: { facets?: Record<string, { _schemaURL?: string }> };
    job?: { facets?: Record<string, { _schemaURL?: string }> };
    inputs?: { facets?: Record<string, { _schemaURL?: string }>; inputFacets?: Record<string, { _schemaURL?: string }> }[];
    outputs?: { facets?: Record<string, { _schemaURL?: string }>; outputFacets?: Record<string, { _schemaURL?: string }> }[];
  };
  const groups: [string, Record<string, { _schemaURL?: string }> | undefined][] = [
    ['run', e.run?.facets],
    ['job', e.job?.facets],
    ...(e.inputs ?? []).flatMap((d, i) => [
      [`inputs[${i}]`, d.facets] as [string, Record<string, { _schemaURL?: string }> | undefined],
      [`inputs[${i}].inputFacets`, d.inputFacets] as [string, Record<string, { _schemaURL?: string }> | undefined],
    ]),
    ...(e.outputs ?? []).flatMap((d, i) => [
      [`outputs[${i}]`, d.facets] as [string, Record<string, { _schemaURL?: string }> | undefined],
      [`outputs[${i}].outputFacets`, d.outputFacets] as [string, Record<string, { _schemaURL?: string }> | undefined],
    ]),
  ];
  for (const [where, group] of groups) {
    for (const [key, facet] of Object.entries(group ?? {})) {
      const id = (facet._schemaURL ?? '').split('#')[0] ?? '';
      const schema = facets.get(id);
      if (!schema) {
        errors.push(`${where}.${key}: no official schema for ${facet._schemaURL}`);
        continue;
      }
      if (schema.key !== key) errors.push(`${where}.${key}: the schema names this facet '${schema.key}'`);
      if (!schema.validate({ [schema.key]: facet })) errors.push(`${where}.${key}: ${JSON.stringify(schema.validate.errors)}`);
    }
  }
  return { ok: errors.length === 0, errors };
}
